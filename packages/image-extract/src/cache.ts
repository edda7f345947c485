import { chmod, lstat, mkdir, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BerthError, isBerthError, parseOptions } from '@berth/errors';
import * as v from 'valibot';
import { isDigest } from './digest.js';
import { q } from './errors.js';
import type { ResolvedImage } from './resolve.js';
import {
  type OwnerMap,
  UnpackLimitsSchema,
  type UnpackProgress,
  unpackImageAtomic,
} from './unpack.js';

const VARIANT_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * berth's cache directory: `$BERTH_CACHEDIR`, else `$XDG_CACHE_HOME/berth` (when absolute, as
 * the XDG spec asks), else `~/.cache/berth`.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = env.BERTH_CACHEDIR;
  if (own) return path.resolve(own);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'berth');
  const home = env.HOME || os.homedir();
  return path.join(home, '.cache', 'berth');
}

/**
 * Where the unpacked rootfs of manifest `manifestDigest` lives for ownership variant `variant`
 * (a short `[a-z0-9-]` key chosen by the launcher): `<cacheDir>/rootfs/<hex>-<variant>`.
 */
export function rootfsCachePath(cacheDir: string, manifestDigest: string, variant: string): string {
  if (!isDigest(manifestDigest)) {
    throw new BerthError(
      'ERR_INVALID_OPTIONS',
      `invalid manifest digest ${q(String(manifestDigest), 100)} for the rootfs cache`,
      {
        hint: 'pass ResolvedImage.manifestDigest ("sha256:" and 64 hex digits)',
      },
    );
  }
  if (typeof variant !== 'string' || !VARIANT_RE.test(variant)) {
    throw new BerthError(
      'ERR_INVALID_OPTIONS',
      `invalid rootfs cache variant ${q(String(variant), 100)}`,
      {
        hint: 'a variant is 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit',
      },
    );
  }
  if (typeof cacheDir !== 'string' || cacheDir === '') {
    throw new BerthError('ERR_INVALID_OPTIONS', 'invalid cache directory: empty', {
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
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const fn = <T>() => v.custom<T>((x) => typeof x === 'function', 'must be a function');

/** Options of `unpackToCache`. */
export const UnpackToCacheOptionsSchema = v.object({
  image: v.custom<ResolvedImage>(
    (x) =>
      typeof x === 'object' &&
      x !== null &&
      isDigest((x as ResolvedImage).manifestDigest) &&
      Array.isArray((x as ResolvedImage).layers) &&
      typeof (x as ResolvedImage).blobPath === 'function',
    'must be a resolved image (from resolveImage)',
  ),
  cacheDir: v.pipe(v.string(), v.minLength(1)),
  variant: v.pipe(v.string(), v.regex(VARIANT_RE, 'must be 1-63 characters of a-z, 0-9 and "-"')),
  owner: v.optional(fn<OwnerMap>()),
  onProgress: v.optional(fn<(event: UnpackProgress) => void>()),
  onWarning: v.optional(fn<(message: string) => void>()),
  limits: v.optional(UnpackLimitsSchema),
});
export type UnpackToCacheOptions = v.InferInput<typeof UnpackToCacheOptionsSchema>;

/**
 * Returns the cached rootfs of `image` for `variant`, unpacking it first when missing (with
 * `unpackImageAtomic`; cache directories are created 0700). When another process finishes the
 * same rootfs first, ours is dropped and theirs returned.
 */
export async function unpackToCache(options: UnpackToCacheOptions): Promise<string> {
  const o = parseOptions(UnpackToCacheOptionsSchema, options, 'unpackToCache options');
  const found = await findCachedRootfs(o.cacheDir, o.image.manifestDigest, o.variant);
  if (found !== undefined) return found;
  const final = rootfsCachePath(o.cacheDir, o.image.manifestDigest, o.variant);
  const dir = path.dirname(final);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await ensurePrivate(dir);
  try {
    await unpackImageAtomic(o.image, final, {
      ...(o.owner && { owner: o.owner }),
      ...(o.onProgress && { onProgress: o.onProgress }),
      ...(o.onWarning && { onWarning: o.onWarning }),
      ...(o.limits && { limits: o.limits }),
    });
  } catch (error) {
    if (isBerthError(error) && error.code === 'ERR_IMAGE_DEST_EXISTS') {
      const winner = await findCachedRootfs(o.cacheDir, o.image.manifestDigest, o.variant);
      if (winner !== undefined) return winner;
    }
    throw error;
  }
  return final;
}

/** Makes our own `<cacheDir>/rootfs` 0700 (rootfs trees hold setuid files; CVE-2021-41103). */
async function ensurePrivate(dir: string): Promise<void> {
  const st = await stat(dir);
  if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) await chmod(dir, 0o700);
}
