import { chmod, readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';

/**
 * Removes a tree even when it holds read-only directories (an unprivileged unpack can leave
 * 0555 directories that the owner cannot delete from): on EACCES/EPERM, directories are made
 * 0700 (never following symlinks) and removal is tried again.
 */
export async function removeTree(p: string): Promise<void> {
  try {
    await rm(p, { recursive: true, force: true });
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw error;
  }
  const stack = [p];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    try {
      await chmod(dir, 0o700);
      for (const ent of await readdir(dir, { withFileTypes: true })) {
        if (ent.isDirectory()) stack.push(path.join(dir, ent.name));
      }
    } catch {
      // best effort
    }
  }
  await rm(p, { recursive: true, force: true });
}
