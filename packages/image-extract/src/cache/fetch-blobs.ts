import * as v from 'valibot';
import { formatImageRef } from '../core/image-ref.js';
import type { ResolvedImage } from '../core/resolved-image.js';
import { debug } from '../debug.js';
import { ImageError, parseImageOptions, q } from '../errors.js';
import { RegistryClient } from '../registry/client.js';
import { RegistryOptionsSchema } from '../registry/options.js';
import { ensureBlob } from './blob-cache.js';

/** Progress of `fetchImageBlobs`. */
export type FetchProgress = {
  /** `downloading` repeats as bytes arrive; `downloaded` ends a download; `present`: already in the cache (verified). */
  phase: 'downloading' | 'downloaded' | 'present';
  /** 1-based layer index. */
  layer: number;
  layers: number;
  digest: string;
  bytes: number;
  size: number;
};

const fn = <T>() => v.custom<T>((x) => typeof x === 'function', 'must be a function');

/** Options of `fetchImageBlobs`: how to reach the registry, progress, and parallel downloads. */
export const FetchOptionsSchema = v.strictObject({
  ...RegistryOptionsSchema.entries,
  onProgress: v.optional(fn<(event: FetchProgress) => void>()),
  /** Layers downloaded at once (default 3). */
  concurrency: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(16)), 3),
});
export type FetchOptions = v.InferInput<typeof FetchOptionsSchema>;

/** What `fetchImageBlobs` did. */
export interface FetchStats {
  layers: number;
  /** Layers downloaded now (the others were in the cache). */
  downloaded: number;
  /** Bytes downloaded now. */
  bytes: number;
}

const PROGRESS_STEP = 1 << 20;

/**
 * Makes every layer of `image` available to `unpackImage`: for `docker://` images, downloads the
 * layers missing from the blob cache (each verified against its size and digest while it
 * arrives, written to a temporary file and renamed into place; a lock per blob makes concurrent
 * pulls download it once). A cached blob is verified again before it is trusted. For local
 * transports there is nothing to fetch.
 */
export async function fetchImageBlobs(
  image: ResolvedImage,
  options: FetchOptions = {},
): Promise<FetchStats> {
  const o = parseImageOptions(FetchOptionsSchema, options, 'fetchImageBlobs options');
  const layers = image.layers.length;
  if (image.ref.transport !== 'docker') return { layers, downloaded: 0, bytes: 0 };
  if (image.source.kind !== 'dir') {
    throw new ImageError(
      'ERR_IMAGE_CACHE',
      'a docker:// image must read its blobs from the blob cache',
      {
        hint: 'pass the image returned by resolveImage',
      },
    );
  }
  const cacheDir = image.source.dir;
  const { onProgress, concurrency, ...registryOptions } = o;
  // The first failure stops the other downloads (each removes its temporary file) before it is
  // thrown, so nothing is left half-written behind it.
  const stop = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  const client = new RegistryClient(image.ref, { ...registryOptions, signal });
  const name = q(formatImageRef(image.ref), 300);
  const stats: FetchStats = { layers, downloaded: 0, bytes: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= layers || failure !== undefined) return;
      const layer = image.layers[i] as (typeof image.layers)[number];
      const what = `layer ${i + 1}`;
      const base = { layer: i + 1, layers, digest: layer.digest, size: layer.size };
      let reported = 0;
      const downloaded = await ensureBlob(cacheDir, layer, what, name, async (tmp) => {
        onProgress?.({ phase: 'downloading', ...base, bytes: 0 });
        await client.downloadBlob(layer, tmp, what, (bytes) => {
          if (onProgress && bytes - reported >= PROGRESS_STEP) {
            reported = bytes;
            onProgress({ phase: 'downloading', ...base, bytes });
          }
        });
      });
      if (downloaded) {
        stats.downloaded++;
        stats.bytes += layer.size;
      }
      debug('%s %s: %s', what, layer.digest, downloaded ? 'downloaded' : 'present');
      onProgress?.({ phase: downloaded ? 'downloaded' : 'present', ...base, bytes: layer.size });
    }
  };
  let failure: { error: unknown } | undefined;
  const guarded = async (): Promise<void> => {
    try {
      await worker();
    } catch (error) {
      if (failure === undefined) {
        failure = { error };
        stop.abort(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, layers) }, guarded));
  if (failure !== undefined) throw failure.error;
  return stats;
}
