/** The unpacked-rootfs cache: one tree per manifest digest and ownership variant, made once. */
import { lstat, readdir, utimes } from 'node:fs/promises';
import * as path from 'node:path';
import { isBerthError } from '@berth-oci/errors';
import * as v from 'valibot';
import { isDigest } from '../core/digest.js';
import { formatImageRef } from '../core/image-ref.js';
import { formatPlatform } from '../core/platform.js';
import { type ResolvedImage, ResolvedImageSchema } from '../core/resolved-image.js';
import { debug } from '../debug.js';
import { ImageError, parseImageOptions, q } from '../errors.js';
import { removeTree } from '../unpack/remove-tree.js';
import type { OwnerMap } from '../unpack/rootfs-writer.js';
import { UnpackLimitsSchema, type UnpackProgress, unpackImageAtomic } from '../unpack/unpack.js';
import { lockPath, privateDir } from './blob-cache.js';
import { imageBlobs, mergeRefs, readMeta, writeMeta } from './cache-meta.js';
import { type Lock, lockCache } from './lock.js';

const VARIANT_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Where the unpacked rootfs of manifest `manifestDigest` lives for ownership variant `variant`
 * (a short `[a-z0-9-]` key chosen by the launcher): `<cacheDir>/rootfs/<hex>-<variant>`.
 */
export function rootfsCachePath(cacheDir: string, manifestDigest: string, variant: string): string {
  if (!isDigest(manifestDigest)) {
    throw new ImageError(
      'ERR_INVALID_OPTIONS',
      `invalid manifest digest ${q(String(manifestDigest), 100)} for the rootfs cache`,
      {
        hint: 'pass ResolvedImage.manifestDigest ("sha256:" and 64 hex digits)',
      },
    );
  }
  if (typeof variant !== 'string' || !VARIANT_RE.test(variant)) {
    throw new ImageError(
      'ERR_INVALID_OPTIONS',
      `invalid rootfs cache variant ${q(String(variant), 100)}`,
      {
        hint: 'a variant is 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit',
      },
    );
  }
  if (typeof cacheDir !== 'string' || cacheDir === '') {
    throw new ImageError('ERR_INVALID_OPTIONS', 'invalid cache directory: empty', {
      hint: 'pass defaultCacheDir() or a path',
    });
  }
  return path.join(path.resolve(cacheDir), 'rootfs', `${manifestDigest.slice(7)}-${variant}`);
}

/**
 * The cached rootfs for this manifest and variant, or undefined. Only complete entries exist
 * under that name: a rootfs is written beside it and renamed into place when complete.
 */
export async function findCachedRootfs(
  cacheDir: string,
  manifestDigest: string,
  variant: string,
): Promise<string | undefined> {
  const p = rootfsCachePath(cacheDir, manifestDigest, variant);
  try {
    const st = await lstat(p);
    return st.isDirectory() ? p : undefined;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ImageError('ERR_IMAGE_CACHE', `cannot look up ${q(p)} in the cache (${code})`, {
      hint: 'check the permissions of the cache directory (BERTH_CACHEDIR)',
      cause,
    });
  }
}

const fn = <T>() => v.custom<T>((x) => typeof x === 'function', 'must be a function');

/** Options of `unpackToCache`. */
export const UnpackToCacheOptionsSchema = v.strictObject({
  image: ResolvedImageSchema,
  cacheDir: v.pipe(v.string(), v.minLength(1)),
  variant: v.pipe(v.string(), v.regex(VARIANT_RE, 'must be 1-63 characters of a-z, 0-9 and "-"')),
  owner: v.optional(fn<OwnerMap>()),
  onProgress: v.optional(fn<(event: UnpackProgress) => void>()),
  onWarning: v.optional(fn<(message: string) => void>()),
  limits: v.optional(UnpackLimitsSchema),
});
export type UnpackToCacheOptions = v.InferInput<typeof UnpackToCacheOptionsSchema>;

/** The lock that serialises work on one rootfs entry. */
export function rootfsLock(cacheDir: string, entryName: string): string {
  return lockPath(cacheDir, `rootfs-${entryName}`);
}

/**
 * Returns the cached rootfs of `image` for `variant`, unpacking it first when missing.
 *
 * Concurrency: the unpack runs under a lock on the entry (`<cacheDir>/locks/`), so N processes
 * asking for the same missing rootfs unpack it once; the others wait and then find it. Crashes:
 * the tree is written as `<entry>.tmp-<random>` and renamed into place only when complete, so a
 * killed unpack leaves nothing that is trusted; its temporary tree is removed by the next
 * unpack of the entry (under the lock, any temporary tree is stale). Cache directories are
 * created 0700.
 */
export async function unpackToCache(options: UnpackToCacheOptions): Promise<string> {
  const o = parseImageOptions(UnpackToCacheOptionsSchema, options, 'unpackToCache options');
  const found = await findCachedRootfs(o.cacheDir, o.image.manifestDigest, o.variant);
  if (found !== undefined) return found;
  const final = rootfsCachePath(o.cacheDir, o.image.manifestDigest, o.variant);
  const dir = path.dirname(final);
  const entry = path.basename(final);
  await privateDir(dir);
  const lock = (await lockCache(rootfsLock(o.cacheDir, entry))) as Lock;
  try {
    const winner = await findCachedRootfs(o.cacheDir, o.image.manifestDigest, o.variant);
    if (winner !== undefined) {
      debug('rootfs %s appeared while waiting for its lock', entry);
      return winner;
    }
    for (const name of await readdir(dir)) {
      if (name.startsWith(`${entry}.tmp-`)) {
        debug('removing the stale temporary tree %s', name);
        await removeTree(path.join(dir, name));
      }
    }
    const stats = await unpackImageAtomic(o.image, final, {
      ...(o.owner && { owner: o.owner }),
      ...(o.onProgress && { onProgress: o.onProgress }),
      ...(o.onWarning && { onWarning: o.onWarning }),
      ...(o.limits && { limits: o.limits }),
    });
    await writeMeta(o.cacheDir, entry, (old) => ({
      ...old,
      manifestDigest: o.image.manifestDigest,
      variant: o.variant,
      refs: mergeRefs(old?.refs, formatImageRef(o.image.ref)),
      created: new Date().toISOString(),
      bytes: stats.bytes,
      entries: stats.entries,
      blobs: imageBlobs(o.image),
      ...(o.image.platform && { platform: formatPlatform(o.image.platform) }),
    })).catch((e) => debug('cannot write cache metadata for %s: %s', entry, (e as Error).message));
    return final;
  } catch (error) {
    if (isBerthError(error) && error.code === 'ERR_IMAGE_DEST_EXISTS') {
      const other = await findCachedRootfs(o.cacheDir, o.image.manifestDigest, o.variant);
      if (other !== undefined) return other;
    }
    throw error;
  } finally {
    await lock.release();
  }
}

/**
 * Records that a launch used the cached rootfs of `image` for `variant`: the reference is added
 * to its metadata and the last-use time set to now. Best effort (errors are ignored).
 */
export async function recordCacheUse(
  cacheDir: string,
  image: ResolvedImage,
  variant: string,
): Promise<void> {
  const entry = path.basename(rootfsCachePath(cacheDir, image.manifestDigest, variant));
  const file = path.join(path.resolve(cacheDir), 'rootfs', `${entry}.json`);
  try {
    const ref = formatImageRef(image.ref);
    const old = await readMeta(file);
    if (old && old.refs[0] === ref) {
      const now = new Date();
      await utimes(file, now, now);
      return;
    }
    await writeMeta(cacheDir, entry, (m) => ({
      ...(m ?? { manifestDigest: image.manifestDigest, variant, blobs: imageBlobs(image) }),
      refs: mergeRefs(m?.refs, ref),
    }));
  } catch (e) {
    debug('cannot record the use of %s: %s', entry, (e as Error).message);
  }
}
