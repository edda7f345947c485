import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { debug } from '../debug.js';
import { ImageError, q } from '../errors.js';

/** A held lock; `release()` frees it (idempotent). */
export interface Lock {
  release(): Promise<void>;
}

const noLock: Lock = { release: async () => {} };
let flockMissing = false;

/**
 * Takes an exclusive lock on `file` (created if missing, in a 0700 directory), waiting for it
 * unless `wait` is false (then returns undefined when another process holds it).
 *
 * Node has no flock(2): the lock is held by a `flock FILE cat` child (util-linux), which holds
 * it for as long as its stdin stays open. The kernel drops the lock when that child exits, and
 * the child exits as soon as this process closes the pipe — or dies, even by SIGKILL. So a crash
 * never leaves a stale lock behind. Without a `flock` program, locking is skipped (correctness
 * never depends on the lock: entries appear by atomic rename; the lock only avoids doing the
 * same work twice).
 */
export async function acquireLock(file: string, wait = true): Promise<Lock | undefined> {
  if (flockMissing) return noLock;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const args = [
    '--exclusive',
    ...(wait ? [] : ['--nonblock', '--conflict-exit-code', '75']),
    file,
    'cat',
  ];
  const child = spawn('flock', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  // A dead child would make writes to its stdin fail with EPIPE; that is handled by `exit`.
  child.stdin.on('error', () => {});
  const result = await new Promise<'locked' | 'busy' | 'missing' | Error>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT' ? 'missing' : e));
    child.once('exit', (code) =>
      resolve(code === 75 ? 'busy' : new Error(stderr.trim() || `flock exited with ${code}`)),
    );
    child.stdout.once('data', () => resolve('locked'));
    child.stdin.write('x\n');
  });
  if (result === 'missing') {
    flockMissing = true;
    debug('no flock program: cache locking is off');
    return noLock;
  }
  if (result === 'busy') return undefined;
  if (result instanceof Error) {
    throw new ImageError('ERR_IMAGE_CACHE', `cannot lock ${q(file)}: ${result.message}`, {
      hint: 'check that the cache directory is writable',
      cause: result,
    });
  }
  child.stdout.resume();
  // A forgotten lock must not keep the process alive; release() takes the references back.
  const handles = [child, child.stdin, child.stdout, child.stderr] as unknown as Array<{
    ref?: () => void;
    unref?: () => void;
  }>;
  for (const h of handles) h.unref?.();
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        for (const h of handles) h.ref?.();
        child.once('exit', () => resolve());
        child.stdin.end();
      });
      return released;
    },
  };
}

/** Runs `fn` holding the lock on `file`. */
export async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = (await acquireLock(file)) as Lock;
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
