/**
 * The cache's locks, from `@berth-oci/lock` (a flock(2) held by a child process, freed when this
 * process exits or is killed). Correctness never depends on them: cache entries appear by atomic
 * rename, a lock only avoids doing the same work twice. So without a `flock` program locking is
 * skipped, and a lock that cannot be taken is ERR_IMAGE_CACHE.
 */
import { isBerthError } from '@berth-oci/errors';
import { acquireLock, type Lock } from '@berth-oci/lock';
import { debug } from '../debug.js';
import { ImageError, q } from '../errors.js';

export type { Lock } from '@berth-oci/lock';

let flockMissing = false;

/** Locks `file` (waiting unless `wait` is false: then undefined when another process holds it). */
export async function lockCache(file: string, wait = true): Promise<Lock | undefined> {
  if (flockMissing) return { file, release: async () => {} };
  try {
    return await acquireLock(file, { wait });
  } catch (error) {
    if (isBerthError(error) && error.code === 'ERR_LOCK_NO_FLOCK') {
      flockMissing = true;
      debug('no flock program: cache locking is off');
      return { file, release: async () => {} };
    }
    throw new ImageError('ERR_IMAGE_CACHE', `cannot lock ${q(file)}: ${(error as Error).message}`, {
      hint: 'check that the cache directory is writable',
      cause: error,
    });
  }
}

/** Runs `fn` holding the lock on `file`. */
export async function withCacheLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = (await lockCache(file)) as Lock;
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
