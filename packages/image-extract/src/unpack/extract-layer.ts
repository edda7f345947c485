/** One layer: its blob streamed, hashed, decompressed and fed through the tar reader to the writer. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { isBerthError } from '@berth-oci/errors';
import { type BlobLocation, locateBlob } from '../core/blob-source.js';
import { digestHex } from '../core/digest.js';
import type { LayerCompression } from '../core/media-types.js';
import type { ResolvedImage } from '../core/resolved-image.js';
import type { LayerDescriptor } from '../core/schemas.js';
import { blobMissing, digestMismatch, openBlob, sizeMismatch } from '../core/verified-blob.js';
import { debug } from '../debug.js';
import { ImageError } from '../errors.js';
import type { RootfsWriter } from './rootfs-writer.js';
import { TarReader } from './tar-reader.js';
import { zstdDecompressor } from './zstd.js';

/** Progress of `unpackImage`, reported through `onProgress`. */
export type UnpackProgress = {
  /** `verifying`: hashing a layer blob before anything is written; `extracting`: applying it (repeated as bytes are read); `extracted`: the layer is done. */
  phase: 'verifying' | 'extracting' | 'extracted';
  /** 1-based index of the layer. */
  layer: number;
  /** Number of layers. */
  layers: number;
  digest: string;
  /** Compressed bytes of this layer read so far in this phase. */
  bytes: number;
  /** Compressed size of this layer. */
  size: number;
  /** Entries applied so far (all layers). */
  entries: number;
};

/** Read size for layer blobs. */
const READ_CHUNK = 1 << 20;
/** Decompressed chunk size: large chunks keep the per-chunk overhead low. */
const GUNZIP_CHUNK = 256 << 10;
const PROGRESS_STEP = 4 << 20;

/** A layer checked and ready to extract. */
export interface LayerPlan {
  layer: LayerDescriptor;
  compression: LayerCompression;
  label: string;
}

/** Where a layer's blob is; ERR_IMAGE_BLOB_MISSING when an archive lacks it. */
export function layerLocation(
  image: ResolvedImage,
  layer: LayerDescriptor,
  what: string,
  name: string,
): BlobLocation {
  const loc = locateBlob(image.source, layer.digest);
  if (!loc) throw blobMissing(layer, what, name, 'the image archive');
  return loc;
}

/**
 * Extracts layer `index` of `image` through `writer`, hashing the compressed bytes against the
 * layer digest and the tar stream against its diff_id (both to the end of the stream).
 */
export async function extractLayer(
  image: ResolvedImage,
  plan: LayerPlan,
  index: number,
  layers: number,
  name: string,
  writer: RootfsWriter,
  totals: { bytes: number; compressedBytes: number },
  maxTotalBytes: number,
  progress: ((e: UnpackProgress) => void) | undefined,
): Promise<void> {
  const { layer, label } = plan;
  const what = `layer ${index + 1}`;
  const { fh, start } = await openBlob(layerLocation(image, layer, what, name), layer, what, name);
  const compressedHash = createHash('sha256');
  const tarHash = createHash('sha256');
  const reader = new TarReader(writer, label);
  let read = 0;
  let reported = 0;
  const report = (): void =>
    progress?.({
      phase: 'extracting',
      layer: index + 1,
      layers,
      digest: layer.digest,
      bytes: read,
      size: layer.size,
      entries: writer.counts.entries,
    });

  const started = Date.now();
  writer.beginLayer(label);
  report();
  try {
    const source =
      layer.size === 0
        ? Readable.from([])
        : fh.createReadStream({
            highWaterMark: READ_CHUNK,
            autoClose: false,
            emitClose: false,
            start,
            end: start + layer.size - 1,
          });
    const tap = async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const chunk of chunks) {
        read += chunk.length;
        if (read > layer.size) throw sizeMismatch(layer, what, name, `more than ${layer.size}`);
        compressedHash.update(chunk);
        if (progress && read - reported >= PROGRESS_STEP) {
          reported = read;
          report();
        }
        yield chunk;
      }
    };
    const sink = async (chunks: AsyncIterable<Buffer>): Promise<void> => {
      for await (const chunk of chunks) {
        totals.bytes += chunk.length;
        if (totals.bytes > maxTotalBytes) {
          throw new ImageError(
            'ERR_IMAGE_LIMIT',
            `${label} of image ${name} takes the unpacked tar data over ${maxTotalBytes} bytes`,
            {
              hint: 'raise limits.maxTotalBytes if the image is trusted (this may be a decompression bomb)',
            },
          );
        }
        tarHash.update(chunk);
        reader.write(chunk);
      }
    };
    if (plan.compression === 'gzip') {
      await pipeline(source, tap, createGunzip({ chunkSize: GUNZIP_CHUNK }), sink);
    } else if (plan.compression === 'zstd') {
      await pipeline(source, tap, zstdDecompressor(`${label} of image ${name}`), sink);
    } else {
      await pipeline(source, tap, sink);
    }
    reader.end();
  } catch (error) {
    writer.abort();
    throw mapLayerError(error, label, name);
  } finally {
    await fh.close();
  }
  totals.compressedBytes += read;
  if (read !== layer.size) throw sizeMismatch(layer, what, name, read);
  const actual = compressedHash.digest('hex');
  if (actual !== digestHex(layer.digest)) throw digestMismatch(layer, what, name, actual);
  const diff = tarHash.digest('hex');
  if (diff !== digestHex(layer.diffId)) {
    throw new ImageError(
      'ERR_IMAGE_DIGEST_MISMATCH',
      `${label} of image ${name}: the uncompressed tar is sha256:${diff}, not its diff_id ${layer.diffId}`,
      {
        hint: 'the image is corrupted or was tampered with; delete what was unpacked and copy the image again',
      },
    );
  }
  writer.endLayer();
  debug(
    '%s: %d compressed bytes, %d entries so far, %d ms',
    label,
    read,
    writer.counts.entries,
    Date.now() - started,
  );
  progress?.({
    phase: 'extracted',
    layer: index + 1,
    layers,
    digest: layer.digest,
    bytes: read,
    size: layer.size,
    entries: writer.counts.entries,
  });
}

function mapLayerError(error: unknown, label: string, name: string): unknown {
  if (isBerthError(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new ImageError(
      'ERR_IMAGE_LAYER_INVALID',
      `${label} of image ${name} is not valid gzip: ${(error as Error).message}`,
      {
        hint: 'the layer is corrupt or truncated; copy the image again',
        cause: error,
      },
    );
  }
  return new ImageError(
    'ERR_IMAGE_UNPACK_FAILED',
    `cannot unpack ${label} of image ${name}: ${(error as Error).message}`,
    {
      hint: 'see the cause',
      cause: error,
    },
  );
}
