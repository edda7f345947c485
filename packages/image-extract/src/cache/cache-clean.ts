/** Listing and cleaning a cache directory: unpacked trees, blobs and leftovers. */
import { lstat, readdir, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as v from 'valibot';
import { formatImageRef, parseImageRef } from '../core/image-ref.js';
import { debug } from '../debug.js';
import { ImageError, parseImageOptions, q } from '../errors.js';
import { removeTree } from '../unpack/remove-tree.js';
import { blobCacheDir, lockPath } from './blob-cache.js';
import { defaultCacheDir } from './cache-dir.js';
import { readMeta } from './cache-meta.js';
import { type Lock, lockCache } from './lock.js';
import { rootfsLock } from './rootfs-cache.js';

const fn = <T>() => v.custom<T>((x) => typeof x === 'function', 'must be a function');

/** One unpacked image in the cache. */
export interface CacheEntry {
  manifestDigest: string;
  variant: string;
  path: string;
  /** References it was used by, most recent first. */
  refs: string[];
  /** Uncompressed size of its layers (bytes), when known. */
  bytes?: number;
  entries?: number;
  platform?: string;
  created?: string;
  /** Last launch that used it (ISO time). */
  lastUsed: string;
}

/** What `listCache` finds. */
export interface CacheListing {
  cacheDir: string;
  images: CacheEntry[];
  blobs: { count: number; bytes: number };
  /** Leftovers of interrupted downloads and unpacks (removed by `cleanCache`). */
  temporaries: number;
}

const ENTRY_RE = /^([a-f0-9]{64})-([a-z0-9][a-z0-9-]{0,62})$/;

async function entriesOf(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Lists the unpacked images and the blobs of a cache directory, most recently used first. */
export async function listCache(cacheDir: string = defaultCacheDir()): Promise<CacheListing> {
  const root = path.resolve(cacheDir);
  const rootfsDir = path.join(root, 'rootfs');
  const images: CacheEntry[] = [];
  let temporaries = 0;
  for (const name of await entriesOf(rootfsDir)) {
    if (name.includes('.tmp-')) {
      temporaries++;
      continue;
    }
    const m = ENTRY_RE.exec(name);
    if (!m) continue;
    const p = path.join(rootfsDir, name);
    const st = await lstat(p).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    const metaFile = `${p}.json`;
    const meta = await readMeta(metaFile);
    const mst = await stat(metaFile).catch(() => undefined);
    const e: CacheEntry = {
      manifestDigest: `sha256:${m[1]}`,
      variant: m[2] as string,
      path: p,
      refs: meta?.refs ?? [],
      lastUsed: (mst ?? st).mtime.toISOString(),
    };
    if (meta?.bytes !== undefined) e.bytes = meta.bytes;
    if (meta?.entries !== undefined) e.entries = meta.entries;
    if (meta?.platform !== undefined) e.platform = meta.platform;
    if (meta?.created !== undefined) e.created = meta.created;
    images.push(e);
  }
  images.sort((a, b) => b.lastUsed.localeCompare(a.lastUsed));
  const blobs = { count: 0, bytes: 0 };
  const bdir = blobCacheDir(root);
  for (const name of await entriesOf(bdir)) {
    if (name.includes('.tmp-')) {
      temporaries++;
      continue;
    }
    if (!/^[a-f0-9]{64}$/.test(name)) continue;
    const st = await stat(path.join(bdir, name)).catch(() => undefined);
    if (!st?.isFile()) continue;
    blobs.count++;
    blobs.bytes += st.size;
  }
  return { cacheDir: root, images, blobs, temporaries };
}

/** Options of `cleanCache`. */
export const CleanCacheOptionsSchema = v.strictObject({
  cacheDir: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** Remove everything. */
  all: v.optional(v.boolean(), false),
  /** Remove the unpacked trees of this image (a reference it was used by, or a manifest digest or its first 12+ hex digits) and the blobs only it uses. */
  image: v.optional(v.pipe(v.string(), v.minLength(1))),
  /**
   * Removes rootfs trees (whose files may belong to subordinate ids): the launcher passes one
   * that works inside a user namespace. Default: `removeTree` here.
   */
  removeTrees: v.optional(fn<(paths: string[]) => Promise<void>>()),
});
export type CleanCacheOptions = v.InferInput<typeof CleanCacheOptionsSchema>;

/** What `cleanCache` removed. */
export interface CleanResult {
  removed: Array<{ kind: 'rootfs' | 'blob' | 'temporary' | 'other'; path: string; bytes?: number }>;
  /** Entries skipped because a running berth holds their lock. */
  busy: string[];
}

function matchesImage(e: CacheEntry, want: string): boolean {
  const hex = want.startsWith('sha256:') ? want.slice(7) : want;
  if (/^[a-f0-9]{12,64}$/.test(hex) && e.manifestDigest.slice(7).startsWith(hex)) return true;
  if (e.refs.includes(want)) return true;
  try {
    return e.refs.includes(formatImageRef(parseImageRef(want)));
  } catch {
    return false;
  }
}

/**
 * Cleans a cache directory:
 * - default: leftovers of interrupted downloads and unpacks, and blobs no cached image uses;
 * - `image`: that image's unpacked trees (every variant) and the blobs no other image uses;
 * - `all`: everything.
 * Entries locked by a running berth are skipped (listed in `busy`). Trees are removed with
 * `removeTrees` (trees unpacked for a user namespace belong to subordinate ids).
 */
export async function cleanCache(options: CleanCacheOptions = {}): Promise<CleanResult> {
  const o = parseImageOptions(CleanCacheOptionsSchema, options, 'cleanCache options');
  const root = path.resolve(o.cacheDir ?? defaultCacheDir());
  const result: CleanResult = { removed: [], busy: [] };
  const listing = await listCache(root);
  const rootfsDir = path.join(root, 'rootfs');
  const bdir = blobCacheDir(root);
  const removeTrees =
    o.removeTrees ??
    (async (paths: string[]) => {
      for (const p of paths) await removeTree(p);
    });

  let doomed: CacheEntry[] = [];
  if (o.all) doomed = listing.images;
  else if (o.image !== undefined) {
    doomed = listing.images.filter((e) => matchesImage(e, o.image as string));
    if (doomed.length === 0) {
      throw new ImageError('ERR_IMAGE_NOT_FOUND', `no cached image matches ${q(o.image)}`, {
        hint: 'see berth cache list for what is cached',
      });
    }
  }

  // Trees (and temporary trees), each under its entry's lock, removed in one batch.
  const locks: Lock[] = [];
  const trees: Array<{ kind: 'rootfs' | 'temporary'; path: string; bytes?: number }> = [];
  try {
    const take = async (entry: string): Promise<boolean> => {
      const lock = await lockCache(rootfsLock(root, entry), false);
      if (!lock) {
        result.busy.push(entry);
        return false;
      }
      locks.push(lock);
      return true;
    };
    for (const e of doomed) {
      const entry = path.basename(e.path);
      if (!(await take(entry))) continue;
      trees.push({
        kind: 'rootfs',
        path: e.path,
        ...(e.bytes !== undefined && { bytes: e.bytes }),
      });
    }
    const taken = new Set<string>();
    for (const name of await entriesOf(rootfsDir)) {
      const i = name.indexOf('.tmp-');
      if (i === -1 || name.endsWith('.json') || name.includes('.json.tmp-')) continue;
      const entry = name.slice(0, i);
      if (!taken.has(entry) && !doomed.some((e) => path.basename(e.path) === entry)) {
        if (!(await take(entry))) continue;
        taken.add(entry);
      }
      trees.push({ kind: 'temporary', path: path.join(rootfsDir, name) });
    }
    if (trees.length > 0) await removeTrees(trees.map((t) => t.path));
    for (const t of trees) {
      result.removed.push(t);
      if (t.kind === 'rootfs') await rm(`${t.path}.json`, { force: true });
    }
  } finally {
    for (const l of locks) await l.release();
  }
  for (const name of await entriesOf(rootfsDir)) {
    if (name.includes('.json.tmp-')) await rm(path.join(rootfsDir, name), { force: true });
  }

  // Blobs: the ones no remaining image uses (all of them with `all`), and partial downloads.
  const keep = new Set<string>();
  if (!o.all) {
    const gone = new Set(result.removed.filter((r) => r.kind === 'rootfs').map((r) => r.path));
    for (const e of listing.images) {
      if (gone.has(e.path)) continue;
      const meta = await readMeta(`${e.path}.json`);
      if (!meta) {
        // an entry without metadata: keep every blob, to be safe
        return finishClean(result, root, o.all);
      }
      for (const b of meta.blobs) keep.add(b.slice(7));
    }
  }
  for (const name of await entriesOf(bdir)) {
    const hex = name.slice(0, 64);
    if (!/^[a-f0-9]{64}/.test(name)) continue;
    const tmp = name.includes('.tmp-');
    if (!tmp && keep.has(hex)) continue;
    if (!tmp && name.length !== 64) continue;
    const lock = await lockCache(lockPath(root, `blob-${hex}`), false);
    if (!lock) {
      result.busy.push(`blob ${hex}`);
      continue;
    }
    try {
      const p = path.join(bdir, name);
      const st = await stat(p).catch(() => undefined);
      await rm(p, { force: true });
      result.removed.push({
        kind: tmp ? 'temporary' : 'blob',
        path: p,
        ...(st && { bytes: st.size }),
      });
    } finally {
      await lock.release();
    }
  }
  return finishClean(result, root, o.all);
}

async function finishClean(result: CleanResult, root: string, all: boolean): Promise<CleanResult> {
  if (!all || result.busy.length > 0) return result;
  // Everything else berth keeps there (lock files, empty directories).
  for (const name of ['locks', 'rootfs', 'blobs']) {
    const p = path.join(root, name);
    try {
      await rm(p, { recursive: true, force: true });
      result.removed.push({ kind: 'other', path: p });
    } catch (error) {
      debug('cannot remove %s: %s', p, (error as Error).message);
    }
  }
  return result;
}
