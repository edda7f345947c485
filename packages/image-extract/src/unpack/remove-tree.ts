import {
  closeSync,
  fchmodSync,
  constants as fsc,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  rmdirSync,
  unlinkSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { LongPaths } from './long-paths.js';

/**
 * Removes a tree even when it holds read-only directories (an unprivileged unpack can leave
 * 0555 directories that the owner cannot delete from) or paths longer than PATH_MAX (a layer
 * with a thousand nested directories; Node's `rm` builds full paths): then the tree is walked
 * by directory descriptors, directories are made 0700 (never following symlinks), and
 * everything is removed bottom up.
 */
export async function removeTree(p: string): Promise<void> {
  try {
    await rm(p, { recursive: true, force: true });
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENAMETOOLONG') throw error;
  }
  removeTreeByDescriptors(p);
}

const DIR_FLAGS = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;

const gone = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** Makes directory `p` searchable and writable by its owner (opened O_NOFOLLOW: never a symlink's target). */
function openUp(p: string): void {
  let fd: number;
  try {
    fd = openSync(p, DIR_FLAGS);
  } catch {
    return; // not readable even so: the removal below reports it
  }
  try {
    if ((fstatSync(fd).mode & 0o700) !== 0o700) fchmodSync(fd, 0o700);
  } catch {
    // best effort: not ours
  } finally {
    closeSync(fd);
  }
}

function removeTreeByDescriptors(root: string): void {
  const st = lstatSync(root, { throwIfNoEntry: false });
  if (st === undefined) return;
  if (!st.isDirectory()) {
    unlinkSync(root);
    return;
  }
  const paths = new LongPaths(root);
  try {
    const stack = [''];
    const opened = new Set<string>();
    while (stack.length > 0) {
      const dir = stack[stack.length - 1] as string;
      if (!opened.has(dir)) {
        openUp(paths.of(dir));
        opened.add(dir);
      }
      const names = readdirSync(paths.of(dir));
      if (names.length === 0) {
        try {
          rmdirSync(paths.of(dir));
        } catch (error) {
          if (!gone(error)) throw error;
        }
        paths.drop(dir);
        opened.delete(dir);
        stack.pop();
        continue;
      }
      for (const name of names) {
        const child = dir === '' ? name : `${dir}/${name}`;
        const cst = lstatSync(paths.of(child), { throwIfNoEntry: false });
        if (cst === undefined) continue;
        if (cst.isDirectory()) stack.push(child);
        else {
          try {
            unlinkSync(paths.of(child));
          } catch (error) {
            if (!gone(error)) throw error;
          }
        }
      }
    }
  } finally {
    paths.close();
  }
}
