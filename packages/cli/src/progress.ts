import type { LaunchProgress } from '@berth-oci/launcher';
import type { Io } from './render.js';

/** Shows download and unpack progress on stderr. */
export interface ProgressDisplay {
  onProgress: ((e: LaunchProgress) => void) | undefined;
  /** Draws the final state (on a terminal) and stops. */
  finish(): void;
}

/** `12.3 MB`, `512 B`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

const short = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

interface Row {
  label: string;
  bytes: number;
  size: number;
  started: number;
  ended?: number;
  state: string;
}

const BAR = 24;

function drawRow(r: Row, now: number): string {
  const frac = r.size > 0 ? Math.min(1, r.bytes / r.size) : r.ended ? 1 : 0;
  const filled = Math.round(frac * BAR);
  const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (frac >= 1 ? '=' : '>') : ''}${' '.repeat(BAR - filled)}`;
  const secs = Math.max(0.001, ((r.ended ?? now) - r.started) / 1000);
  const rate = r.bytes > 0 ? `${formatBytes(Math.round(r.bytes / secs))}/s` : '';
  return `${r.label} ${r.state.padEnd(11)} [${bar}] ${formatBytes(r.bytes)}/${formatBytes(r.size)} ${rate}`.trimEnd();
}

/**
 * Progress for a terminal: one bar per layer with bytes and rate, redrawn in place (at most ten
 * times a second); elsewhere one line per layer when it is done; nothing when quiet.
 */
export function createProgress(io: Io, options: { quiet: boolean }): ProgressDisplay {
  if (options.quiet) return { onProgress: undefined, finish() {} };
  const out = io.stderr;
  if (!out.isTTY) {
    return {
      onProgress(e) {
        if (e.phase === 'download' && e.done) {
          out.write(
            e.cached
              ? `berth: layer ${e.layer}/${e.layers} ${short(e.digest)} already downloaded\n`
              : `berth: downloaded layer ${e.layer}/${e.layers} ${short(e.digest)} (${formatBytes(e.size)})\n`,
          );
        } else if (e.phase === 'unpack-layer' && e.done) {
          out.write(
            `berth: unpacked layer ${e.layer}/${e.layers} ${short(e.digest)} (${formatBytes(e.size ?? 0)}${e.entries !== undefined ? `, ${e.entries} entries so far` : ''})\n`,
          );
        } else if (e.phase === 'unpack-done') {
          out.write(
            `berth: unpacked ${e.image}${e.entries !== undefined ? ` (${e.entries} entries)` : ''}\n`,
          );
        }
      },
      finish() {},
    };
  }
  // A terminal: blocks of rows (downloads, then unpacking), the current one redrawn in place.
  let rows: Row[] = [];
  let kind: 'download' | 'unpack' | undefined;
  let drawn = 0;
  let last = 0;
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    let s = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const r of rows) s += `\r\x1b[2K${drawRow(r, now)}\n`;
    drawn = rows.length;
    out.write(s);
  };
  const startBlock = (k: 'download' | 'unpack', layers: number, label: (i: number) => string) => {
    if (kind === k && rows.length === layers) return;
    if (rows.length > 0) draw(true);
    kind = k;
    drawn = 0;
    const now = Date.now();
    rows = Array.from({ length: layers }, (_, i) => ({
      label: label(i),
      bytes: 0,
      size: 0,
      started: now,
      state: 'waiting',
    }));
  };
  return {
    onProgress(e) {
      if (e.phase === 'download') {
        startBlock('download', e.layers, (i) => `layer ${i + 1}/${e.layers}`);
        const r = rows[e.layer - 1];
        if (!r) return;
        if (r.state === 'waiting') r.started = Date.now();
        r.label = `layer ${e.layer}/${e.layers} ${short(e.digest)}`;
        r.size = e.size;
        r.bytes = e.bytes;
        r.state = e.done ? (e.cached ? 'cached' : 'downloaded') : 'downloading';
        if (e.done) r.ended = Date.now();
        draw(e.done);
      } else if (e.phase === 'unpack-start') {
        startBlock('unpack', e.layers, (i) => `layer ${i + 1}/${e.layers}`);
        draw(true);
      } else if (e.phase === 'unpack-layer') {
        startBlock('unpack', e.layers, (i) => `layer ${i + 1}/${e.layers}`);
        const r = rows[e.layer - 1];
        if (!r) return;
        if (r.state === 'waiting') r.started = Date.now();
        r.label = `layer ${e.layer}/${e.layers} ${short(e.digest)}`;
        r.size = e.size ?? r.size;
        r.bytes = e.bytes ?? r.bytes;
        r.state = e.done ? 'unpacked' : 'unpacking';
        if (e.done) r.ended = Date.now();
        draw(e.done === true);
      } else if (e.phase === 'unpack-done') {
        draw(true);
        rows = [];
        kind = undefined;
        drawn = 0;
      }
    },
    finish() {
      if (rows.length > 0) draw(true);
      rows = [];
      drawn = 0;
    },
  };
}
