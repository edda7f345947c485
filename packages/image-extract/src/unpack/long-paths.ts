import { closeSync, constants as fsc, openSync } from 'node:fs';

/**
 * Paths below this many bytes are handed to the kernel as they are; longer ones go through an
 * open directory descriptor. PATH_MAX is 4096 on Linux; the margin leaves room for one name
 * (at most 255 bytes) and for `/proc/self/fd/N/`.
 */
const SAFE_BYTES = 3072;

const DIR_FLAGS = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;

const bytes = (s: string) => (s.length * 3 < SAFE_BYTES ? s.length : Buffer.byteLength(s));

function parentKey(key: string): string {
  const i = key.lastIndexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

/**
 * Path strings for the entries of a tree whose paths may be longer than PATH_MAX (a layer with
 * a thousand nested directories): `root/key` when that is short, else
 * `/proc/self/fd/<fd>/<name>` with `fd` an open descriptor of the entry's parent directory, so
 * that every path the kernel resolves stays short (Node has no `openat` family; the magic link
 * of a directory descriptor stands in for it). Descriptors are opened from a nearby one already
 * open (a few are kept, least recently used closed first) or from the root in steps of short
 * relative paths, each directory opened `O_NOFOLLOW`.
 *
 * Keys are `/`-separated paths relative to `root` (`''` is the root) whose directory components
 * the caller knows to be real directories, as for `root/key`: this is a way to name them, not
 * a resolver. After removing or replacing a directory, `drop` it so that no descriptor of the
 * old one is used again. `close` when done.
 */
export class LongPaths {
  /** Open directory descriptors by key, least recently used first. */
  private readonly open = new Map<string, number>();

  constructor(
    private readonly root: string,
    private readonly keep = 4,
  ) {}

  /** A path for `key` that the kernel accepts, valid until the next `drop`/`close`. */
  of(key: string): string {
    if (key === '') return this.root;
    const full = `${this.root}/${key}`;
    if (bytes(full) < SAFE_BYTES) return full;
    const dir = parentKey(key);
    const name = dir === '' ? key : key.slice(dir.length + 1);
    if (dir === '') return full; // one name below the root: as short as it gets
    return `/proc/self/fd/${this.dirFd(dir)}/${name}`;
  }

  /** Forgets descriptors of `key` and everything below it (it was removed or replaced). */
  drop(key: string): void {
    const prefix = `${key}/`;
    for (const [k, fd] of [...this.open]) {
      if (key === '' || k === key || k.startsWith(prefix)) {
        this.open.delete(k);
        closeSync(fd);
      }
    }
  }

  close(): void {
    for (const fd of this.open.values()) closeSync(fd);
    this.open.clear();
  }

  /** An open descriptor of directory `dir` (a non-empty key). */
  private dirFd(dir: string): number {
    const have = this.open.get(dir);
    if (have !== undefined) {
      this.open.delete(dir);
      this.open.set(dir, have);
      return have;
    }
    // from the nearest open ancestor, else from the root
    let base = '';
    let baseFd: number | undefined;
    for (const [k, fd] of this.open) {
      if (dir.startsWith(`${k}/`) && k.length > base.length) {
        base = k;
        baseFd = fd;
      }
    }
    let rest = base === '' ? dir : dir.slice(base.length + 1);
    let fd: number;
    let owned = false;
    if (baseFd === undefined) {
      // the longest prefix of `dir` that is short enough as an absolute path
      const parts = rest.split('/');
      let n = 0;
      let len = bytes(this.root);
      while (n < parts.length && len + 1 + bytes(parts[n] as string) < SAFE_BYTES) {
        len += 1 + bytes(parts[n] as string);
        n++;
      }
      fd = openSync(n === 0 ? this.root : `${this.root}/${parts.slice(0, n).join('/')}`, DIR_FLAGS);
      owned = true;
      rest = parts.slice(n).join('/');
    } else fd = baseFd;
    try {
      // walk down the rest in relative steps that each stay short
      while (rest !== '') {
        const parts = rest.split('/');
        let n = 0;
        let len = 0;
        while (n < parts.length && len + 1 + bytes(parts[n] as string) < SAFE_BYTES) {
          len += 1 + bytes(parts[n] as string);
          n++;
        }
        if (n === 0) n = 1; // a single name is at most 255 bytes: always fits
        const next = openSync(`/proc/self/fd/${fd}/${parts.slice(0, n).join('/')}`, DIR_FLAGS);
        if (owned) closeSync(fd);
        fd = next;
        owned = true;
        rest = parts.slice(n).join('/');
      }
    } catch (error) {
      if (owned) closeSync(fd);
      throw error;
    }
    if (!owned) {
      // `dir` is the base itself (cannot happen: it would have been found above)
      return fd;
    }
    this.open.set(dir, fd);
    while (this.open.size > this.keep) {
      const [k, old] = this.open.entries().next().value as [string, number];
      this.open.delete(k);
      closeSync(old);
    }
    return fd;
  }
}
