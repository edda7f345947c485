import { spawn } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import * as v from 'valibot';
import { LockError } from './errors.js';

export const AcquireLockOptionsSchema = v.strictObject({
  /** Wait while another process holds the lock (default). `false`: give up at once. */
  wait: v.optional(v.boolean(), true),
  /** Wait at most this long, then throw ERR_LOCK_TIMEOUT (default: no limit). */
  timeoutMs: v.optional(v.pipe(v.number(), v.minValue(0))),
  /** Stops waiting: the promise rejects with the signal's reason. */
  signal: v.optional(v.instance(AbortSignal)),
  /** The util-linux `flock` program, a name or a path (default `flock`). */
  flock: v.optional(v.pipe(v.string(), v.minLength(1)), 'flock'),
});
export type AcquireLockOptions = v.InferInput<typeof AcquireLockOptionsSchema>;

/** A held lock. */
export interface Lock {
  /** The locked file or directory. */
  readonly file: string;
  /** Frees the lock; resolves once it is free. Calling it again is harmless. */
  release(): Promise<void>;
}

/** flock's exit status when the lock is busy (`--conflict-exit-code`). */
const BUSY = 75;

function parse(options: unknown) {
  const result = v.safeParse(AcquireLockOptionsSchema, options ?? {});
  if (result.success) return result.output;
  throw new LockError(
    'ERR_INVALID_OPTIONS',
    `invalid lock options: ${v.summarize(result.issues)}`,
    {
      hint: 'see the Usage section of the @berth-oci/lock README',
    },
  );
}

/**
 * Takes an exclusive lock on `file`: a file (created, with its missing parent directories
 * (0700), when it does not exist) or an existing directory. Resolves with the held lock, or
 * with undefined when `wait` is false and another process holds it.
 *
 * Node has no flock(2), so a util-linux `flock FILE cat` child holds the lock for as long as
 * its stdin stays open. The kernel drops the lock when that child exits, and it exits as soon
 * as this process closes the pipe or dies, even by SIGKILL: a crash never leaves a stale lock.
 * The child runs in its own process group, so a ctrl-c at the terminal does not free the lock
 * before this process has cleaned up. The lock file itself stays (removing it would let two
 * processes lock two different files of one name).
 *
 * Throws ERR_LOCK_NO_FLOCK when there is no `flock` program, ERR_LOCK_TIMEOUT after
 * `timeoutMs`, ERR_LOCK_FAILED when the file cannot be opened.
 */
export async function acquireLock(
  file: string,
  options: AcquireLockOptions = {},
): Promise<Lock | undefined> {
  const o = parse(options);
  o.signal?.throwIfAborted();
  const isDir = (await stat(file).catch(() => undefined))?.isDirectory() === true;
  if (!isDir) {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 }).catch((e: Error) => {
      throw new LockError('ERR_LOCK_FAILED', `cannot lock "${file}": ${e.message}`, {
        hint: 'check that its directory exists or can be made, and that you may write to it',
        cause: e,
      });
    });
  }
  const args = ['--exclusive', '--conflict-exit-code', String(BUSY)];
  if (!o.wait) args.push('--nonblock');
  else if (o.timeoutMs !== undefined) args.push('--timeout', String(o.timeoutMs / 1000));
  const child = spawn(o.flock, [...args, file, 'cat'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr += d;
  });
  // Writing to a child that died fails with EPIPE; its `exit` reports what happened.
  child.stdin.on('error', () => {});
  const onAbort = () => child.kill('SIGKILL');
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const result = await new Promise<'locked' | 'busy' | 'missing' | Error>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT' ? 'missing' : e));
    child.once('exit', (code) =>
      resolve(
        code === BUSY ? 'busy' : new Error(stderr.trim() || `flock exited with status ${code}`),
      ),
    );
    // `cat` echoes the byte once flock holds the lock and has started it.
    child.stdout.once('data', () => resolve('locked'));
    child.stdin.write('x\n');
  });
  o.signal?.removeEventListener('abort', onAbort);
  if (result !== 'locked') {
    if (o.signal?.aborted) throw o.signal.reason;
    if (result === 'busy' && !o.wait) return undefined;
    if (result === 'busy') {
      throw new LockError(
        'ERR_LOCK_TIMEOUT',
        `"${file}" is still locked by another process after ${o.timeoutMs} ms`,
        { hint: 'wait for the other process to finish, then try again' },
      );
    }
    if (result === 'missing') {
      throw new LockError(
        'ERR_LOCK_NO_FLOCK',
        `cannot lock "${file}": "${o.flock}" is not installed`,
        {
          hint: 'install util-linux (it provides flock), e.g. apt-get install util-linux',
        },
      );
    }
    throw new LockError(
      'ERR_LOCK_FAILED',
      `cannot lock "${file}": ${result.message.replace(/^flock: /, '')}`,
      {
        hint: 'check that the file (or its directory) exists and that you may write to it',
        cause: result,
      },
    );
  }
  child.stdout.resume();
  // A lock that is held must not keep the event loop alive; release() takes the references back.
  const handles = [child, child.stdin, child.stdout, child.stderr] as unknown as Array<{
    ref?: () => void;
    unref?: () => void;
  }>;
  for (const h of handles) h.unref?.();
  let released: Promise<void> | undefined;
  return {
    file,
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

/**
 * Runs `fn` holding the exclusive lock on `file` (waiting for it, up to `timeoutMs` when given)
 * and frees the lock however `fn` ends. `wait: false` is refused here: use `acquireLock`.
 */
export async function withLock<T>(
  file: string,
  fn: () => Promise<T>,
  options: Omit<AcquireLockOptions, 'wait'> = {},
): Promise<T> {
  const lock = (await acquireLock(file, { ...options, wait: true })) as Lock;
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
