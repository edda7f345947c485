import { appendFile, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isAlive } from '@berth-oci/runtime-ops';
import * as v from 'valibot';
import { ConmonError } from './errors.js';

const RuntimeLogLineSchema = v.looseObject({
  level: v.optional(v.string()),
  msg: v.optional(v.string()),
});

/**
 * The runtime's error from its `--log-format=json` log (runc `{"level":"error","msg":…}`, crun
 * `{"msg":…,"level":"error"}`): the last error or fatal message, or undefined.
 */
export function parseRuntimeLog(text: string): string | undefined {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    let json: unknown;
    try {
      json = JSON.parse(lines[i] as string);
    } catch {
      continue;
    }
    const parsed = v.safeParse(RuntimeLogLineSchema, json);
    if (!parsed.success) continue;
    const { level, msg } = parsed.output;
    if (msg && (level === undefined || level === 'error' || level === 'fatal')) return msg.trim();
  }
  return undefined;
}

/** One line of conmon's k8s-file log. */
export interface K8sLogLine {
  time: string;
  stream: 'stdout' | 'stderr';
  /** `F` a full line, `P` a partial one (no newline in the output). */
  tag: 'F' | 'P';
  content: string;
}

/** Parses `<time> <stdout|stderr> <F|P> <content>`; undefined for anything else. */
export function parseK8sLogLine(line: string): K8sLogLine | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
  if (!m) {
    const empty = /^(\S+) (stdout|stderr) ([FP])$/.exec(line);
    if (!empty) return undefined;
    return {
      time: empty[1] as string,
      stream: empty[2] as 'stdout' | 'stderr',
      tag: empty[3] as 'F' | 'P',
      content: '',
    };
  }
  return {
    time: m[1] as string,
    stream: m[2] as 'stdout' | 'stderr',
    tag: m[3] as 'F' | 'P',
    content: m[4] as string,
  };
}

/**
 * A k8s-file log as JSON lines, one object per log line, in docker's json-file shape:
 * `{"log":"text\n","stream":"stdout","time":"…"}` (a partial line has no trailing newline).
 */
export function k8sLogToJsonLines(text: string): string {
  let out = '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const parsed = parseK8sLogLine(line);
    if (!parsed) continue;
    const log = parsed.tag === 'F' ? `${parsed.content}\n` : parsed.content;
    out += `${JSON.stringify({ log, stream: parsed.stream, time: parsed.time })}\n`;
  }
  return out;
}

/** Converts the k8s-file log `from` into JSON lines at `to` (written whole, then renamed). */
export async function convertLogFile(from: string, to: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(from, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') text = '';
    else
      throw new ConmonError('ERR_CONMON_LOG', `cannot read the container log "${from}"`, {
        cause: e,
      });
  }
  const tmp = `${to}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, k8sLogToJsonLines(text), { mode: 0o600 });
    await rename(tmp, to);
  } catch (e) {
    throw new ConmonError(
      'ERR_CONMON_LOG',
      `cannot write the container log "${to}": ${(e as Error).message}`,
      { hint: 'check that its directory exists and is writable', cause: e },
    );
  }
}

/**
 * The log converter's entry (`log-convert.js`, a helper entry declared in package.json under
 * `berth.helpers`): found next to this module, in this package's dist and in a bundle alike
 * (`src/log-convert.ts` when run from source).
 */
export const LOG_CONVERTER_PATH = fileURLToPath(
  new URL(
    import.meta.url.endsWith('.ts') ? './log-convert.ts' : './log-convert.js',
    import.meta.url,
  ),
);

/**
 * `node` arguments before the converter's path: none when built; run from source (tests), the
 * loader flags this process was started with, so that the `.ts` entry runs too.
 */
export const LOG_CONVERTER_NODE_ARGS = import.meta.url.endsWith('.ts') ? process.execArgv : [];

/** What `followLog` watches to know that the container has ended. */
export interface FollowLogOptions {
  /** conmon's exit file: once it exists, the log is complete. */
  exitFile: string;
  /** conmon's pid: when it is gone, so is the container. */
  conmonPid?: number;
  /** How often to look for new lines (default 100 ms). */
  intervalMs?: number;
}

async function readFrom(file: string, offset: number): Promise<Buffer> {
  const handle = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (!handle) return Buffer.alloc(0);
  try {
    const { size } = await handle.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Keeps the JSON-lines log `to` up to date with the k8s-file log `from` while the container
 * runs: each complete line is appended as it appears. When the container has ended (the exit
 * file exists, or conmon is gone) the whole log is converted once more, atomically, and it
 * returns.
 */
export async function followLog(
  from: string,
  to: string,
  options: FollowLogOptions,
): Promise<void> {
  const interval = options.intervalMs ?? 100;
  await writeFile(to, '', { mode: 0o600 });
  let offset = 0;
  let pending = Buffer.alloc(0);
  for (;;) {
    const ended =
      (await stat(options.exitFile).then(
        () => true,
        () => false,
      )) ||
      (options.conmonPid !== undefined && !isAlive(options.conmonPid));
    const chunk = await readFrom(from, offset);
    offset += chunk.length;
    pending = Buffer.concat([pending, chunk]);
    const nl = pending.lastIndexOf(0x0a);
    if (nl >= 0) {
      const lines = k8sLogToJsonLines(pending.subarray(0, nl + 1).toString('utf8'));
      pending = pending.subarray(nl + 1);
      if (lines !== '') await appendFile(to, lines);
    }
    if (ended) break;
    await new Promise((r) => setTimeout(r, interval));
  }
  await convertLogFile(from, to);
}

/**
 * Waits (up to `timeoutMs`) for a log follower to finish: it removes `pidFile` when done. For
 * `delete`, so that its own last conversion does not race the follower.
 */
export async function waitForLogFollower(pidFile: string, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    let pid: number;
    try {
      pid = Number.parseInt(await readFile(pidFile, 'utf8'), 10);
    } catch {
      return;
    }
    if (!isAlive(pid)) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  await rm(pidFile, { force: true });
}
