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
