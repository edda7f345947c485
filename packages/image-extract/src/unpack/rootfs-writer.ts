import {
  closeSync,
  fchmodSync,
  fchownSync,
  constants as fsc,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  type Stats,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { isBerthError } from '@berth-oci/errors';
import { ImageError, q } from '../errors.js';
import { LongPaths } from './long-paths.js';
import type { TarEntry, TarHandler } from './tar-reader.js';

/** Maps an image uid/gid to the host ids to chown to; null means leave the owner alone. */
export type OwnerMap = (uid: number, gid: number) => [number, number] | null;

interface WriterLimits {
  maxEntries: number;
  maxPathLength: number;
  maxDepth: number;
}

export interface WriterCounts {
  entries: number;
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  whiteouts: number;
  skipped: number;
}

interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number | undefined;
}

/** Symlink hops allowed while resolving one path (as Linux's MAXSYMLINKS). */
const MAX_SYMLINK_HOPS = 40;

const WRITE_FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;

/** The process umask, read without changing it (process.umask() without argument is deprecated). */
function currentUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number.parseInt(m[1] as string, 8);
  } catch {
    // not Linux /proc: assume the common default
  }
  return 0o022;
}
const UMASK = currentUmask();

/**
 * A file whose mode has no special bits and nothing the umask would clear is created with its
 * final mode, which saves an fchmod per file (a tenth of the time on trees of small files).
 */
const createdWithFinalMode = (mode: number) => (mode & 0o7000) === 0 && (mode & UMASK) === 0;
const DIR_FLAGS = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;
const IMPLIED_DIR: Readonly<DirMeta> = { mode: 0o755, uid: 0, gid: 0, mtime: undefined };

function join(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

function parentKey(key: string): string {
  const i = key.lastIndexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

function depthOf(key: string): number {
  if (key === '') return 0;
  let n = 1;
  for (let i = key.indexOf('/'); i >= 0; i = key.indexOf('/', i + 1)) n++;
  return n;
}

/** Lexical clean of a member name: rootfs-relative components, `.` dropped, `..` clamped at `/`. */
function cleanParts(name: string): { parts: string[]; escapes: boolean } {
  const parts: string[] = [];
  let escapes = false;
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (parts.length > 0) parts.pop();
      else escapes = true;
      continue;
    }
    parts.push(c);
  }
  return { parts, escapes };
}

/**
 * Applies tar entries of successive layers to a rootfs directory, following the unpack rules
 * of docs/image-threats.md (nothing is ever written outside the rootfs). All paths are rootfs-relative keys (`usr/bin`, `''` for the root); every
 * lookup goes through one in-root resolver (`resolve`) that follows symlinks with the rootfs as
 * `/` and clamps `..`. The tree must be private to this process while it is written.
 *
 * The fs calls are synchronous on purpose: each is a few microseconds, while an async call costs
 * a thread-pool round trip; the caller feeds one decompressed chunk at a time, so the event loop
 * still turns between chunks.
 */
export class RootfsWriter implements TarHandler {
  /** Keys known to be real directories (every prefix too). Dropped on any removal below them. */
  private readonly dirs = new Set<string>(['']);
  /** Directory metadata, applied at `finish()` (deepest first) so read-only modes never block writes. */
  private readonly dirMeta = new Map<string, DirMeta>([['', { ...IMPLIED_DIR }]]);
  /** Paths written by the current layer (with their ancestors): whiteouts never remove them. */
  private readonly layerPaths = new Set<string>();
  private fd = -1;
  private current: TarEntry | undefined;
  private label = '';
  private skippedNames: string[] = [];
  private xattrs = 0;
  private aufsMeta = 0;
  private entryName = '';
  /** Path strings for keys, also for paths longer than PATH_MAX (deeply nested layers). */
  private readonly paths: LongPaths;
  readonly counts: WriterCounts = {
    entries: 0,
    files: 0,
    directories: 0,
    symlinks: 0,
    hardlinks: 0,
    whiteouts: 0,
    skipped: 0,
  };

  constructor(
    /** Absolute path of the rootfs directory (already created, empty). */
    root: string,
    private readonly limits: WriterLimits,
    private readonly owner: OwnerMap | undefined,
    private readonly warn: (message: string) => void,
  ) {
    this.paths = new LongPaths(root);
  }

  /** Starts a layer; `label` names it in messages (`layer 2/5 sha256:...`). */
  beginLayer(label: string): void {
    this.label = label;
    this.layerPaths.clear();
    this.skippedNames = [];
    this.xattrs = 0;
    this.aufsMeta = 0;
  }

  /** Ends a layer: reports what was skipped. */
  endLayer(): void {
    const n = this.skippedNames.length;
    if (n > 0) {
      const shown = this.skippedNames
        .slice(0, 5)
        .map((s) => q(s, 100))
        .join(', ');
      this.warn(
        `${this.label}: skipped ${n} device node${n === 1 ? '' : 's'}/FIFO${n === 1 ? '' : 's'} (${shown}${n > 5 ? ', ...' : ''}): they cannot be created without mknod`,
      );
    }
    if (this.xattrs > 0) {
      this.warn(
        `${this.label}: ignored ${this.xattrs} extended attribute${this.xattrs === 1 ? '' : 's'} (including any file capabilities)`,
      );
    }
    if (this.aufsMeta > 0)
      this.warn(`${this.label}: ignored ${this.aufsMeta} AUFS metadata entries (.wh..wh.*)`);
    this.layerPaths.clear();
  }

  /** Closes a file left open by a failure. */
  abort(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // already failing
      }
      this.fd = -1;
    }
  }

  /** Closes everything the writer holds open (after `finish`, or after a failure). */
  close(): void {
    this.abort();
    this.paths.close();
  }

  /** Applies the deferred directory metadata, deepest first, the rootfs itself last. */
  finish(): void {
    const keys = [...this.dirMeta.keys()].map((k) => [k, depthOf(k)] as const);
    keys.sort((a, b) => b[1] - a[1]);
    for (const [key] of keys) {
      const meta = this.dirMeta.get(key) as DirMeta;
      let fd: number;
      try {
        fd = openSync(this.abs(key), DIR_FLAGS);
      } catch (error) {
        throw this.wrap(error, key === '' ? '/' : key, 'set metadata of');
      }
      try {
        const ids = this.mapOwner(meta.uid, meta.gid);
        if (ids) fchownSync(fd, ids[0], ids[1]);
        fchmodSync(fd, meta.mode);
        if (meta.mtime !== undefined) futimesSync(fd, meta.mtime, meta.mtime);
      } catch (error) {
        throw this.wrap(error, key === '' ? '/' : key, 'set metadata of');
      } finally {
        closeSync(fd);
      }
    }
  }

  // ---- TarHandler ----

  entry(e: TarEntry): void {
    this.current = e;
    this.entryName = e.name;
    try {
      this.apply(e);
    } catch (error) {
      throw this.wrap(error, e.name, 'extract');
    }
  }

  data(chunk: Buffer): void {
    if (this.fd < 0) return;
    try {
      let off = 0;
      while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
    } catch (error) {
      throw this.wrap(error, this.entryName, 'write');
    }
  }

  end(): void {
    const fd = this.fd;
    if (fd < 0) return;
    this.fd = -1;
    const e = this.current as TarEntry;
    try {
      const ids = this.mapOwner(e.uid, e.gid);
      if (ids) fchownSync(fd, ids[0], ids[1]); // before chmod: chown clears setuid/setgid
      if (!createdWithFinalMode(e.mode)) fchmodSync(fd, e.mode);
      futimesSync(fd, e.mtime, e.mtime);
    } catch (error) {
      throw this.wrap(error, e.name, 'set metadata of');
    } finally {
      closeSync(fd);
    }
  }

  // ---- entries ----

  private apply(e: TarEntry): void {
    const c = this.counts;
    if (++c.entries > this.limits.maxEntries) {
      throw this.limit(`has more than ${this.limits.maxEntries} entries in total`, 'maxEntries');
    }
    const maxPath = this.limits.maxPathLength;
    if (e.name.length * 3 > maxPath && Buffer.byteLength(e.name) > maxPath) {
      throw this.limit(`has an entry name longer than ${maxPath} bytes`, 'maxPathLength');
    }
    if (e.linkname.length * 3 > maxPath && Buffer.byteLength(e.linkname) > maxPath) {
      throw this.limit(`has a link target longer than ${maxPath} bytes`, 'maxPathLength');
    }
    if (e.name === '') throw this.invalid('has an entry with an empty name');
    const { parts } = cleanParts(e.name);
    if (parts.length > this.limits.maxDepth) {
      throw this.limit(`has an entry ${parts.length} directories deep`, 'maxDepth');
    }
    const n = parts.length;
    for (let i = 0; i < n - 1; i++) {
      if ((parts[i] as string).startsWith('.wh.')) {
        throw this.invalid(`has entry ${q(e.name)} below a whiteout name`);
      }
    }
    if (n === 0) {
      this.rootEntry(e);
      return;
    }
    const base = parts[n - 1] as string;
    if (base.startsWith('.wh.')) {
      this.whiteout(parts, base);
      return;
    }

    if (e.type === 'char' || e.type === 'block' || e.type === 'fifo') {
      c.skipped++;
      this.skippedNames.push(e.name);
      return;
    }

    // Parent: the lexical key is a known real directory in the common case.
    let parent = n === 1 ? '' : parts.slice(0, n - 1).join('/');
    if (!this.dirs.has(parent)) parent = this.resolve(parts, n - 1, true) as string;
    const key = join(parent, base);
    // A path string is recomputed right before each call that uses it: a long path names an
    // open directory descriptor, which any other lookup may close.
    const at = () => this.abs(key);

    switch (e.type) {
      case 'file': {
        let fd: number;
        const mode = createdWithFinalMode(e.mode) ? e.mode & 0o777 : 0o600;
        try {
          fd = openSync(at(), WRITE_FLAGS, mode);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          this.remove(key, lstatSync(at()));
          fd = openSync(at(), WRITE_FLAGS, mode);
        }
        this.fd = fd;
        this.markLayer(key);
        c.files++;
        return;
      }
      case 'dir': {
        const st = lstatSync(at(), { throwIfNoEntry: false });
        if (st === undefined || !st.isDirectory()) {
          if (st !== undefined) this.remove(key, st);
          mkdirSync(at(), 0o700);
        }
        this.dirs.add(key);
        this.dirMeta.set(key, { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime });
        this.markLayer(key);
        c.directories++;
        return;
      }
      case 'symlink': {
        if (e.linkname === '') throw this.invalid(`has symlink ${q(e.name)} with an empty target`);
        const st = lstatSync(at(), { throwIfNoEntry: false });
        if (st !== undefined) this.remove(key, st);
        symlinkSync(e.linkname, at()); // verbatim; never followed while extracting
        const ids = this.mapOwner(e.uid, e.gid);
        if (ids) lchownSync(at(), ids[0], ids[1]);
        lutimesSync(at(), e.mtime, e.mtime);
        this.markLayer(key);
        c.symlinks++;
        return;
      }
      case 'link': {
        const target = this.hardlinkTarget(e);
        if (target === key) return; // a link to itself: nothing to do
        const st = lstatSync(at(), { throwIfNoEntry: false });
        if (st !== undefined) this.remove(key, st);
        // both paths computed last, together (the descriptor cache keeps the last few open)
        const from = this.abs(target);
        linkSync(from, at()); // link(2) does not follow a symlink target
        // never chmod/chown/utimes a hardlink: it would change the target (or what a symlink points to)
        this.markLayer(key);
        c.hardlinks++;
        return;
      }
    }
  }

  private rootEntry(e: TarEntry): void {
    if (e.type !== 'dir') {
      throw this.invalid(
        `has entry ${q(e.name)} of type ${e.type} for the root directory: refusing to change its type`,
      );
    }
    this.dirMeta.set('', { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime });
    this.counts.directories++;
  }

  private hardlinkTarget(e: TarEntry): string {
    const { parts, escapes } = cleanParts(e.linkname);
    if (escapes)
      throw this.invalid(`has hardlink ${q(e.name)} to ${q(e.linkname)}, outside the rootfs`);
    if (parts.length === 0) throw this.invalid(`has hardlink ${q(e.name)} to the root directory`);
    const parent = this.resolve(parts, parts.length - 1, false);
    const key = parent === null ? undefined : join(parent, parts[parts.length - 1] as string);
    const st = key === undefined ? undefined : lstatSync(this.abs(key), { throwIfNoEntry: false });
    if (key === undefined || st === undefined) {
      throw this.invalid(`has hardlink ${q(e.name)} to ${q(e.linkname)}, which does not exist`);
    }
    if (st.isDirectory())
      throw this.invalid(`has hardlink ${q(e.name)} to directory ${q(e.linkname)}`);
    return key;
  }

  private whiteout(parts: string[], base: string): void {
    this.counts.whiteouts++;
    const n = parts.length;
    if (base === '.wh..wh..opq') {
      const dir = this.resolve(parts, n - 1, false);
      if (dir !== null) this.clearLower(dir);
      return;
    }
    if (base.startsWith('.wh..wh.')) {
      this.aufsMeta++;
      return;
    }
    const name = base.slice(4);
    if (name === '' || name === '.' || name === '..') {
      throw this.invalid(`has an invalid whiteout ${q(base)}`);
    }
    const parent = this.resolve(parts, n - 1, false);
    if (parent === null) return;
    const key = join(parent, name);
    if (this.layerPaths.has(key)) return; // whiteouts apply to lower layers only
    const st = lstatSync(this.abs(key), { throwIfNoEntry: false });
    if (st !== undefined) this.remove(key, st);
  }

  /** Opaque whiteout: removes everything under `dir` that this layer did not write. */
  private clearLower(dir: string): void {
    const stack = [dir];
    while (stack.length > 0) {
      const d = stack.pop() as string;
      for (const name of readdirSync(this.abs(d))) {
        const key = join(d, name);
        const st = lstatSync(this.abs(key));
        if (this.layerPaths.has(key)) {
          if (st.isDirectory()) stack.push(key);
        } else {
          this.remove(key, st);
        }
      }
    }
  }

  // ---- the in-root resolver ----

  /**
   * Resolves the first `count` components of `parts` inside the rootfs, following symlinks with
   * the rootfs as `/` and clamping `..` there (at most MAX_SYMLINK_HOPS links). Returns the key of
   * a real directory. Missing components are created (as directories) when `create`, otherwise
   * the result is null, as it is for a component that is not a directory.
   */
  private resolve(parts: readonly string[], count: number, create: boolean): string | null {
    const pending: string[] = [];
    for (let i = count - 1; i >= 0; i--) pending.push(parts[i] as string);
    let cur = '';
    let hops = 0;
    while (pending.length > 0) {
      const c = pending.pop() as string;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        cur = parentKey(cur);
        continue;
      }
      const next = join(cur, c);
      if (this.dirs.has(next)) {
        cur = next;
        continue;
      }
      const st = lstatSync(this.abs(next), { throwIfNoEntry: false });
      if (st === undefined) {
        if (!create) return null;
        if (depthOf(next) > this.limits.maxDepth) {
          throw this.limit(
            `would create directories more than ${this.limits.maxDepth} deep`,
            'maxDepth',
          );
        }
        mkdirSync(this.abs(next), 0o700);
        this.dirs.add(next);
        if (!this.dirMeta.has(next)) this.dirMeta.set(next, { ...IMPLIED_DIR });
        this.markLayer(next);
        cur = next;
      } else if (st.isDirectory()) {
        this.dirs.add(next);
        cur = next;
      } else if (st.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw this.invalid(
            `has a path through more than ${MAX_SYMLINK_HOPS} symlinks (ELOOP) at ${q(next)}`,
          );
        }
        const target = readlinkSync(this.abs(next));
        if (target.startsWith('/')) cur = '';
        else cur = parentKey(next);
        const tparts = target.split('/');
        for (let i = tparts.length - 1; i >= 0; i--) pending.push(tparts[i] as string);
      } else {
        if (!create) return null;
        throw this.invalid(`cannot create ${q(this.entryName)}: ${q(next)} is not a directory`);
      }
    }
    return cur;
  }

  // ---- helpers ----

  /** A path for `key` the kernel accepts (through a directory descriptor when it is long); use it at once. */
  private abs(key: string): string {
    return this.paths.of(key);
  }

  /** Removes what is at `key` (recursively, never following symlinks) and forgets what we knew below it. */
  private remove(key: string, st: Stats): void {
    if (key === '') throw this.invalid('tried to remove the root directory');
    if (st.isDirectory()) {
      try {
        rmSync(this.abs(key), { recursive: true, force: true });
      } catch (error) {
        // a tree deeper than PATH_MAX: Node's rm builds full paths, so walk it by descriptors
        if ((error as NodeJS.ErrnoException).code !== 'ENAMETOOLONG') throw error;
        this.removeDeep(key);
      }
      this.forget(key);
      this.paths.drop(key);
    } else {
      unlinkSync(this.abs(key));
    }
  }

  /** Removes directory `key` and everything in it without long paths, never following symlinks. */
  private removeDeep(key: string): void {
    const stack = [key];
    while (stack.length > 0) {
      const dir = stack[stack.length - 1] as string;
      const names = readdirSync(this.abs(dir));
      if (names.length === 0) {
        rmdirSync(this.abs(dir));
        this.paths.drop(dir);
        stack.pop();
        continue;
      }
      for (const name of names) {
        const child = `${dir}/${name}`;
        if (lstatSync(this.abs(child)).isDirectory()) stack.push(child);
        else unlinkSync(this.abs(child));
      }
    }
  }

  private forget(key: string): void {
    this.dirs.delete(key);
    this.dirMeta.delete(key);
    const prefix = `${key}/`;
    for (const k of this.dirs) if (k.startsWith(prefix)) this.dirs.delete(k);
    for (const k of this.dirMeta.keys()) if (k.startsWith(prefix)) this.dirMeta.delete(k);
  }

  private markLayer(key: string): void {
    let k = key;
    while (!this.layerPaths.has(k)) {
      this.layerPaths.add(k);
      if (k === '') return;
      k = parentKey(k);
    }
  }

  private mapOwner(uid: number, gid: number): readonly [number, number] | null {
    if (this.owner === undefined) return null;
    const ids: unknown = this.owner(uid, gid);
    if (ids === null || ids === undefined) return null;
    if (
      !Array.isArray(ids) ||
      ids.length !== 2 ||
      !Number.isSafeInteger(ids[0]) ||
      !Number.isSafeInteger(ids[1]) ||
      (ids[0] as number) < 0 ||
      (ids[1] as number) < 0
    ) {
      throw new ImageError(
        'ERR_INVALID_OPTIONS',
        `invalid unpack options: owner(${uid}, ${gid}) returned ${String(ids)}`,
        {
          hint: 'owner must return [uid, gid] (non-negative integers) or null',
        },
      );
    }
    return ids as [number, number];
  }

  private invalid(what: string): ImageError {
    return new ImageError('ERR_IMAGE_LAYER_INVALID', `${this.label} ${what}`, {
      hint: 'the layer is malformed or crafted to escape the rootfs; do not use this image',
    });
  }

  private limit(what: string, option: string): ImageError {
    return new ImageError('ERR_IMAGE_LIMIT', `${this.label} ${what}`, {
      hint: `raise limits.${option} if the image is trusted`,
    });
  }

  private wrap(error: unknown, name: string, verb: string): Error {
    if (isBerthError(error)) return error;
    const code = (error as NodeJS.ErrnoException).code;
    return new ImageError(
      'ERR_IMAGE_UNPACK_FAILED',
      `${this.label}: cannot ${verb} ${q(name)}: ${code ?? (error as Error).message}`,
      {
        hint:
          code === 'ENOSPC'
            ? 'free some disk space'
            : code === 'EPERM' || code === 'EACCES'
              ? 'check permissions of the destination (ownership changes need root or a user namespace)'
              : 'see the cause',
        cause: error,
      },
    );
  }
}
