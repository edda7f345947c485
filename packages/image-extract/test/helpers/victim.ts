/**
 * Breakout checks in the style of moby/go-archive's testBreakout: a victim directory is planted
 * beside the rootfs; after extraction nothing outside the rootfs may have been created, changed
 * or removed, and no file inside the rootfs may hold the victim's content.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import { tempDir } from './layout.js';

export interface Arena {
  /** The directory holding the rootfs, the victim and the layout. */
  base: string;
  rootfs: string;
  victim: string;
  hello: string;
  helloContent: string;
  before: Map<string, string>;
}

function describe(p: string): string {
  const st = lstatSync(p);
  let extra = '';
  if (st.isFile()) extra = createHash('sha256').update(readFileSync(p)).digest('hex');
  else if (st.isSymbolicLink()) extra = readlinkSync(p);
  return `${st.mode.toString(8)} ${st.uid}:${st.gid} size=${st.size} nlink=${st.nlink} mtime=${st.mtimeMs} ${extra}`;
}

/** Everything under `base` except the rootfs (and its temporary siblings) and the image layout. */
export function snapshot(base: string): Map<string, string> {
  const out = new Map<string, string>();
  const stack: string[] = [];
  for (const name of readdirSync(base)) {
    if (name === 'rootfs' || name.startsWith('rootfs.tmp-') || name === 'layout') continue;
    stack.push(path.join(base, name));
  }
  while (stack.length > 0) {
    const p = stack.pop() as string;
    out.set(path.relative(base, p), describe(p));
    if (lstatSync(p).isDirectory()) for (const n of readdirSync(p)) stack.push(path.join(p, n));
  }
  return out;
}

export function makeArena(): Arena {
  const base = tempDir('berth-breakout-');
  const victim = path.join(base, 'victim');
  mkdirSync(victim, { mode: 0o755 });
  const hello = path.join(victim, 'hello');
  const helloContent = `hello ${Date.now()} ${randomBytes(8).toString('hex')}\n`;
  writeFileSync(hello, helloContent, { mode: 0o644 });
  return {
    base,
    rootfs: path.join(base, 'rootfs'),
    victim,
    hello,
    helloContent,
    before: snapshot(base),
  };
}

/** Files anywhere under `dir` (not following symlinks). */
export function walk(dir: string): string[] {
  const out: string[] = [];
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop() as string;
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const p = path.join(d, n);
      out.push(p);
      if (lstatSync(p).isDirectory()) stack.push(p);
    }
  }
  return out;
}

export function assertNoBreakout(a: Arena): void {
  const after = snapshot(a.base);
  assert.equal(
    Object.fromEntries(after),
    Object.fromEntries(a.before),
    'nothing outside the rootfs changed',
  );
  for (const p of walk(a.rootfs)) {
    const st = lstatSync(p);
    if (st.isFile() && st.size === Buffer.byteLength(a.helloContent)) {
      assert.not.equal(
        readFileSync(p, 'utf8'),
        a.helloContent,
        `no file in the rootfs holds the victim's content (${p})`,
      );
    }
  }
  for (const name of readdirSync(a.base)) {
    assert.not.ok(name.startsWith('rootfs.tmp-'), `temporary ${name} removed`);
  }
}
