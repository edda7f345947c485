import { open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import * as v from 'valibot';
import { RuntimeError } from './errors.js';

/** What a lock file holds: who took it. */
export const LockOwnerSchema = v.looseObject({
  /** The process that took the lock (for short-lived locks). */
  pid: v.optional(v.number()),
  /** The container that holds the lock (bundle locks). */
  id: v.optional(v.string()),
  /** The uid of the user that took it. */
  uid: v.optional(v.number()),
});
export type LockOwner = v.InferOutput<typeof LockOwnerSchema>;

/** Reads a lock file; undefined when there is none, `{}` when it is unreadable. */
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

/**
 * Creates `file` exclusively (O_CREAT|O_EXCL, mode 0600) holding `owner` as JSON. Returns false
 * when it exists already. Creation with O_EXCL is atomic, so two processes never both win.
 */
export async function tryLock(file: string, owner: LockOwner): Promise<boolean> {
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

/** Removes a lock file; a missing one is fine. */
export async function unlock(file: string): Promise<void> {
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` holding the short-lived lock `file` (owner: this process). Waits up to `timeoutMs`
 * for another holder; a lock whose process is dead is stale and taken over.
 */
export async function withLock<T>(
  file: string,
  fn: () => Promise<T>,
  options: { timeoutMs?: number } = {},
): Promise<T> {
  const end = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    if (await tryLock(file, { pid: process.pid, uid: process.getuid?.() })) break;
    const owner = await readLock(file);
    if (owner !== undefined && owner.pid !== undefined && !isAlive(owner.pid)) {
      await unlock(file);
      continue;
    }
    if (Date.now() > end) {
      throw new RuntimeError(
        'ERR_RUNTIME_LOCK',
        `the lock "${file}" is held by process ${owner?.pid ?? '(unknown)'}`,
        { hint: `wait for it to finish; if no berth is running, remove ${file}` },
      );
    }
    await sleep(20);
  }
  try {
    return await fn();
  } finally {
    await unlock(file);
  }
}

/** The lock file of a bundle in use by a container (SingularityCE: `.singularity-oci.lock`). */
export const BUNDLE_LOCK_FILE = '.berth-oci.lock';

export const bundleLockPath = (bundle: string) => path.join(bundle, BUNDLE_LOCK_FILE);

/**
 * Locks `bundle` for container `id`: a bundle runs one container at a time. A lock naming a
 * container that `isStale` says is gone is taken over. Throws ERR_RUNTIME_BUNDLE_LOCKED naming
 * the bundle and the holder.
 */
export async function lockBundle(
  bundle: string,
  id: string,
  isStale?: (owner: LockOwner) => boolean | Promise<boolean>,
): Promise<void> {
  const file = bundleLockPath(bundle);
  const owner: LockOwner = { id, uid: process.getuid?.() };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await tryLock(file, owner)) return;
    const held = await readLock(file);
    if (held === undefined) continue;
    if (isStale && (await isStale(held))) {
      await unlock(file);
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
}

/** Releases the bundle lock if container `id` holds it. */
export async function unlockBundle(bundle: string, id: string): Promise<void> {
  const file = bundleLockPath(bundle);
  const held = await readLock(file);
  if (held !== undefined && held.id === id) await unlock(file);
}
