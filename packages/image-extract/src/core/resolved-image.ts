import * as v from 'valibot';
import { ImageError } from '../errors.js';
import { BlobSourceSchema } from './blob-source.js';
import { ImageRefSchema } from './image-ref.js';
import {
  DescriptorSchema,
  ImageConfigSchema,
  ImageManifestSchema,
  PlatformSchema,
} from './schemas.js';

/**
 * An image whose index, manifest and config were read and verified: what `resolveImage`
 * returns. Plain data, so it can cross to another process as JSON (the launcher hands it to its
 * unpack worker); the receiving side checks it with `parseResolvedImage`. Digests are checked
 * again where they are used (every blob is verified before it is read).
 */
export const ResolvedImageSchema = v.strictObject({
  ref: ImageRefSchema,
  /** Digest of the selected image manifest (the key of the unpacked-rootfs cache). */
  manifestDigest: v.string(),
  manifest: ImageManifestSchema,
  /** Digest of the image config. */
  configDigest: v.string(),
  /** The parsed image config. */
  config: ImageConfigSchema,
  /** The manifest's layers in order, each with its `diffId` from the config. */
  layers: v.array(v.looseObject({ ...DescriptorSchema.entries, diffId: v.string() })),
  /** Platform of the manifest, when an index said it. */
  platform: v.optional(PlatformSchema),
  /** Digests of the image indexes followed down to the manifest, outermost first. */
  indexDigests: v.array(v.string()),
  /** Where the blobs are read from. For `docker://`, the blob cache (layers arrive with `fetchImageBlobs`). */
  source: BlobSourceSchema,
});
export type ResolvedImage = v.InferOutput<typeof ResolvedImageSchema>;

/**
 * Checks that `value` (for example `JSON.parse` of what another process sent) is a
 * `ResolvedImage`; throws `ERR_INVALID_OPTIONS` naming what is wrong.
 */
export function parseResolvedImage(value: unknown): ResolvedImage {
  const result = v.safeParse(ResolvedImageSchema, value);
  if (result.success) return result.output;
  throw new ImageError(
    'ERR_INVALID_OPTIONS',
    `invalid image: expected the result of resolveImage(): ${v.summarize(result.issues)}`,
    { hint: 'pass the ResolvedImage returned by resolveImage' },
  );
}
