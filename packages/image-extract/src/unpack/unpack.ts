/** Unpacking a resolved image: every layer verified first, then applied in order to a new tree. */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename } from 'node:fs/promises';
import * as path from 'node:path';
import * as v from 'valibot';
import { assertDigest } from '../core/digest.js';
import { formatImageRef } from '../core/image-ref.js';
import { layerCompression } from '../core/media-types.js';
import { parseResolvedImage, type ResolvedImage } from '../core/resolved-image.js';
import { verifyBlobFile } from '../core/verified-blob.js';
import { ImageError, parseImageOptions, q } from '../errors.js';
import {
  extractLayer,
  type LayerPlan,
  layerLocation,
  type UnpackProgress,
} from './extract-layer.js';
import { removeTree } from './remove-tree.js';
import { type OwnerMap, RootfsWriter, type WriterCounts } from './rootfs-writer.js';

export type { UnpackProgress } from './extract-layer.js';
export type { OwnerMap } from './rootfs-writer.js';

/** What `unpackImage` did. */
export interface UnpackStats extends WriterCounts {
  layers: number;
  /** Uncompressed tar bytes read (all layers). */
  bytes: number;
  /** Compressed bytes read while extracting (all layers). */
  compressedBytes: number;
}

const positiveInt = v.pipe(v.number(), v.safeInteger(), v.minValue(1));

/** Resource limits of an unpack; exceeding one throws ERR_IMAGE_LIMIT. */
export const UnpackLimitsSchema = v.strictObject({
  /** Entries of all layers together (default 1,000,000). */
  maxEntries: v.optional(positiveInt, 1_000_000),
  /** Bytes of one entry name or link target (default 65,536: paths may be longer than PATH_MAX). */
  maxPathLength: v.optional(positiveInt, 65_536),
  /** Directory depth of one entry (default 4096). */
  maxDepth: v.optional(positiveInt, 4096),
  /** Uncompressed tar bytes of all layers together (default 128 GiB). */
  maxTotalBytes: v.optional(positiveInt, 128 * 2 ** 30),
});
export type UnpackLimits = v.InferInput<typeof UnpackLimitsSchema>;

const fn = <T>() => v.custom<T>((x) => typeof x === 'function', 'must be a function');

/** Options of `unpackImage` and `unpackImageAtomic`. */
export const UnpackOptionsSchema = v.strictObject({
  /** Maps an image uid/gid to the ids to lchown to; absent (or returning null) means no chown. */
  owner: v.optional(fn<OwnerMap>()),
  onProgress: v.optional(fn<(event: UnpackProgress) => void>()),
  onWarning: v.optional(fn<(message: string) => void>()),
  limits: v.optional(UnpackLimitsSchema, {}),
});
export type UnpackOptions = v.InferInput<typeof UnpackOptionsSchema>;

function planLayers(image: ResolvedImage, name: string): LayerPlan[] {
  const n = image.layers.length;
  return image.layers.map((layer, i) => {
    assertDigest(layer.digest, `layer ${i + 1} of image ${name}`);
    assertDigest(layer.diffId, `diff_id of layer ${i + 1} of image ${name}`);
    const compression = layerCompression(layer.mediaType);
    if (compression === undefined) {
      throw new ImageError(
        'ERR_IMAGE_MEDIA_TYPE',
        `layer ${layer.digest} of image ${name} has unknown media type ${q(layer.mediaType)}`,
        { hint: 'only tar, tar+gzip and tar+zstd layers (OCI or Docker) can be unpacked' },
      );
    }
    return { layer, compression, label: `layer ${i + 1}/${n} ${layer.digest}` };
  });
}

function destExists(target: string): ImageError {
  return new ImageError('ERR_IMAGE_DEST_EXISTS', `unpack destination ${q(target)} already exists`, {
    hint: 'remove it, or pick a path that does not exist yet',
  });
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Unpacks the layers of a resolved image into `dest`, which must not exist (it is created 0700
 * while writing; at the end it gets the mode of the image's root entry, 0755 by default).
 *
 * Before anything is written, every layer blob is checked against its descriptor's size and
 * digest. While extracting, the compressed bytes are hashed again and the uncompressed tar is
 * hashed against the config's diff_id. **On any failure `dest` is left partly written: the
 * caller must delete it** — or use `unpackImageAtomic`, which does. Keep `dest` inside a private
 * (0700) directory: the tree may hold setuid files and is written on the assumption that nobody
 * else changes it meanwhile.
 */
export async function unpackImage(
  input: ResolvedImage,
  dest: string,
  options: UnpackOptions = {},
): Promise<UnpackStats> {
  const opts = parseImageOptions(UnpackOptionsSchema, options, 'unpackImage options');
  const image = parseResolvedImage(input);
  const name = q(formatImageRef(image.ref), 300);
  const target = path.resolve(dest);
  const plans = planLayers(image, name);
  const progress = opts.onProgress;
  const warn = opts.onWarning ?? (() => {});
  const layers = plans.length;

  if (await exists(target)) throw destExists(target);

  // Verify every layer blob first: a tampered layer is refused before a byte is decompressed.
  for (let i = 0; i < layers; i++) {
    const { layer } = plans[i] as LayerPlan;
    progress?.({
      phase: 'verifying',
      layer: i + 1,
      layers,
      digest: layer.digest,
      bytes: 0,
      size: layer.size,
      entries: 0,
    });
    await verifyBlobFile(
      layerLocation(image, layer, `layer ${i + 1}`, name),
      layer,
      `layer ${i + 1}`,
      name,
    );
  }

  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  try {
    await mkdir(target, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw destExists(target);
    throw new ImageError(
      'ERR_IMAGE_UNPACK_FAILED',
      `cannot create unpack destination ${q(target)}`,
      {
        hint: 'check that its parent directory is writable',
        cause: error,
      },
    );
  }

  const writer = new RootfsWriter(
    target,
    {
      maxEntries: opts.limits.maxEntries,
      maxPathLength: opts.limits.maxPathLength,
      maxDepth: opts.limits.maxDepth,
    },
    opts.owner,
    warn,
  );
  const totals = { bytes: 0, compressedBytes: 0 };
  try {
    for (let i = 0; i < layers; i++) {
      await extractLayer(
        image,
        plans[i] as LayerPlan,
        i,
        layers,
        name,
        writer,
        totals,
        opts.limits.maxTotalBytes,
        progress,
      );
    }
    writer.finish();
  } finally {
    writer.close();
  }
  return { ...writer.counts, layers, bytes: totals.bytes, compressedBytes: totals.compressedBytes };
}

/**
 * Like `unpackImage`, but unpacks into `<dest>.tmp-<random>` beside `dest` and renames it into
 * place only when everything succeeded; on failure the temporary tree is removed, so nothing of
 * a bad image is left behind.
 */
export async function unpackImageAtomic(
  image: ResolvedImage,
  dest: string,
  options: UnpackOptions = {},
): Promise<UnpackStats> {
  parseImageOptions(UnpackOptionsSchema, options, 'unpackImageAtomic options');
  const target = path.resolve(dest);
  if (await exists(target)) throw destExists(target);
  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  const tmp = `${target}.tmp-${randomBytes(8).toString('hex')}`;
  try {
    const stats = await unpackImage(image, tmp, options);
    if (await exists(target)) throw destExists(target);
    try {
      await rename(tmp, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR')
        throw destExists(target);
      throw new ImageError(
        'ERR_IMAGE_UNPACK_FAILED',
        `cannot rename the unpacked image into ${q(target)}`,
        {
          hint: 'see the cause',
          cause: error,
        },
      );
    }
    return stats;
  } catch (error) {
    await removeTree(tmp);
    throw error;
  }
}
