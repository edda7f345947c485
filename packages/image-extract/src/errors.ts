import { defineBerthError, parseOptions } from '@berth-oci/errors';
import type * as v from 'valibot';

/** Every code `@berth-oci/image-extract` throws. */
export type ImageErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_IMAGE_REF_INVALID'
  | 'ERR_IMAGE_TRANSPORT_UNSUPPORTED'
  | 'ERR_IMAGE_NOT_FOUND'
  | 'ERR_IMAGE_LAYOUT_INVALID'
  | 'ERR_IMAGE_TAG_REQUIRED'
  | 'ERR_IMAGE_PLATFORM'
  | 'ERR_IMAGE_DIGEST_INVALID'
  | 'ERR_IMAGE_BLOB_MISSING'
  | 'ERR_IMAGE_SIZE_MISMATCH'
  | 'ERR_IMAGE_DIGEST_MISMATCH'
  | 'ERR_IMAGE_MEDIA_TYPE'
  | 'ERR_IMAGE_MANIFEST_INVALID'
  | 'ERR_IMAGE_CONFIG_INVALID'
  | 'ERR_IMAGE_CONFIG_ENV'
  | 'ERR_IMAGE_LAYER_UNSUPPORTED'
  | 'ERR_IMAGE_LAYER_INVALID'
  | 'ERR_IMAGE_LIMIT'
  | 'ERR_IMAGE_DEST_EXISTS'
  | 'ERR_IMAGE_UNPACK_FAILED'
  | 'ERR_IMAGE_REGISTRY'
  | 'ERR_IMAGE_AUTH'
  | 'ERR_IMAGE_ARCHIVE_INVALID'
  | 'ERR_IMAGE_CACHE';

/** The error class of this package: a `BerthError` (same brand), with `ImageErrorCode` codes. */
export class ImageError extends defineBerthError<ImageErrorCode>('ImageError') {}

/** Quotes an untrusted string for a message: JSON escaping, long strings cut short. */
export function q(value: string, max = 200): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/** Parses options with their schema; a mismatch is an ImageError ERR_INVALID_OPTIONS. */
export function parseImageOptions<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  what: string,
): v.InferOutput<S> {
  return parseOptions(schema, input, what, ImageError);
}

const WRITE_PROBLEMS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EIO: 'an I/O error',
};

/**
 * A failure to write into the cache (a full disk, a quota, a read-only file system...): never a
 * network problem and never retried. `file` is the file being written; the message names the
 * cache directory it is in (`<cache>/blobs/sha256/<file>` names `<cache>`) and, when known, the
 * space still needed.
 */
export function cacheWriteError(
  cause: unknown,
  file: string,
  what: string,
  space?: { written: number; size: number },
): ImageError {
  const code = (cause as NodeJS.ErrnoException).code ?? '';
  const parts = file.split('/');
  const inBlobs = parts.length > 3 && parts.at(-2) === 'sha256' && parts.at(-3) === 'blobs';
  const dir = parts.slice(0, inBlobs ? -3 : -1).join('/') || '/';
  const problem = WRITE_PROBLEMS[code] ?? (code || String((cause as Error)?.message ?? cause));
  const needed =
    space === undefined
      ? ''
      : `; it needs ${space.size - space.written} more bytes (${space.size} in all)`;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  return new ImageError(
    'ERR_IMAGE_CACHE',
    `cannot write ${what} into the cache directory ${q(dir)}: ${problem}${needed}`,
    {
      hint: full
        ? `free space in ${q(dir)}, or use another cache directory (BERTH_CACHEDIR)`
        : code === 'EROFS'
          ? 'use a writable cache directory (BERTH_CACHEDIR)'
          : 'check that the cache directory (BERTH_CACHEDIR) is writable',
      cause,
    },
  );
}
