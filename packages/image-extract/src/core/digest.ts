import { ImageError, q } from '../errors.js';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** True when `value` is `sha256:` followed by 64 lower-case hex digits (the only form accepted). */
export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

/**
 * Throws ERR_IMAGE_DIGEST_INVALID unless `value` is a sha256 digest. Anything else (other
 * algorithms, upper case, `/`, `..`) is refused, so a digest can never name a path outside
 * `blobs/sha256/`.
 */
export function assertDigest(value: unknown, what: string): asserts value is string {
  if (isDigest(value)) return;
  const shown = typeof value === 'string' ? q(value, 100) : String(value);
  throw new ImageError('ERR_IMAGE_DIGEST_INVALID', `invalid digest ${shown} in ${what}`, {
    hint: 'digests must be "sha256:" followed by 64 lower-case hex digits; the image is malformed or uses an unsupported algorithm',
  });
}

/** The hex part of a validated digest. */
export function digestHex(digest: string): string {
  assertDigest(digest, 'digest');
  return digest.slice(7);
}
