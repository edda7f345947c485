import { open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isBerthError } from '@berth-oci/errors';
import { withLock } from '@berth-oci/lock';
import * as v from 'valibot';
import { RuntimeError } from './errors.js';

/** What a bundle's ownership record holds: who took the bundle. */
export const LockOwnerSchema = v.looseObject({
  /** The container that holds the bundle. */
  id: v.optional(v.string()),
  /** The uid of the user that created it. */
  uid: v.optional(v.number()),
});
export type LockOwner = v.InferOutput<typeof LockOwnerSchema>;

/** Reads an ownership record; undefined when there is none, `{}` when it is unreadable. */
export async function readLock(file: string): Promise<LockOwner | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return {};
  }
  try {
    const parsed = v.safeParse(LockOwnerSchema, JSON.parse(text));
    return parsed.success ? parsed.output : {};
  } catch {
    return {};
  }
}

/** Creates `file` (O_CREAT|O_EXCL, mode 0600) holding `owner`; false when it exists already. */
async function createRecord(file: string, owner: LockOwner): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new RuntimeError(
      'ERR_RUNTIME_LOCK',
      `cannot create the lock "${file}": ${(e as Error).message}`,
      { hint: 'check that the directory exists and is writable', cause: e },
    );
  }
  try {
    await handle.writeFile(`${JSON.stringify(owner)}\n`);
  } finally {
    await handle.close();
  }
  return true;
}

async function removeRecord(file: string): Promise<void> {
  await unlink(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

/** True when `pid` names a live process (EPERM counts as alive: it exists, owned by another user). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` holding the process lock on `file` (`@berth-oci/lock`: freed when this process
 * dies), waiting up to 15 s; lock failures become ERR_RUNTIME_LOCK.
 */
export async function withProcessLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  let entered = false;
  try {
    return await withLock(
      file,
      () => {
        entered = true;
        return fn();
      },
      { timeoutMs: 15_000 },
    );
  } catch (e) {
    if (entered || !isBerthError(e)) throw e;
    throw new RuntimeError('ERR_RUNTIME_LOCK', e.message, { hint: e.hint, cause: e });
  }
}

/** The bundle's ownership record (SingularityCE: `.singularity-oci.lock`). */
export const BUNDLE_LOCK_FILE = '.berth-oci.lock';

export const bundleLockPath = (bundle: string) => path.join(bundle, BUNDLE_LOCK_FILE);

/**
 * Locks `bundle` for container `id`: a bundle runs one container at a time, across processes,
 * so the ownership lives in a record file in the bundle (`.berth-oci.lock`, `{ id, uid }`) for
 * as long as the container exists. A record naming a container that `isStale` says is gone is
 * taken over. The check and the takeover happen holding a process lock on the bundle directory
 * itself, so two processes can never both take the same stale record. Throws
 * ERR_RUNTIME_BUNDLE_LOCKED naming the bundle and the holder.
 */
export async function lockBundle(
  bundle: string,
  id: string,
  isStale?: (owner: LockOwner) => boolean | Promise<boolean>,
): Promise<void> {
  const file = bundleLockPath(bundle);
  const owner: LockOwner = { id, uid: process.getuid?.() };
  await withProcessLock(bundle, async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await createRecord(file, owner)) return;
      const held = await readLock(file);
      if (held === undefined) continue;
      if (isStale && (await isStale(held))) {
        await removeRecord(file);
        continue;
      }
      throw new RuntimeError(
        'ERR_RUNTIME_BUNDLE_LOCKED',
        `bundle "${bundle}" is locked${held.id ? ` by container "${held.id}"` : ''}`,
        {
          hint: held.id
            ? `delete that container first (berth oci delete ${held.id}), or use another bundle`
            : `if no container uses it, remove ${file}`,
        },
      );
    }
    throw new RuntimeError('ERR_RUNTIME_BUNDLE_LOCKED', `bundle "${bundle}" is locked`, {
      hint: `if no container uses it, remove ${file}`,
    });
  });
}

/** Releases the bundle if container `id` holds it. */
export async function unlockBundle(bundle: string, id: string): Promise<void> {
  const file = bundleLockPath(bundle);
  if ((await readLock(file))?.id !== id) return;
  await withProcessLock(bundle, async () => {
    if ((await readLock(file))?.id === id) await removeRecord(file);
  });
}
