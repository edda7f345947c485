// The caches of a cache directory: verified blobs by digest (filled by fetchImageBlobs) and
// unpacked rootfs trees by manifest digest and variant, with listing and cleaning.
export type { CacheEntry, CacheListing, CleanCacheOptions, CleanResult } from './cache-clean.js';
export { CleanCacheOptionsSchema, cleanCache, listCache } from './cache-clean.js';
export { defaultCacheDir } from './cache-dir.js';
export type { FetchOptions, FetchProgress, FetchStats } from './fetch-blobs.js';
export { FetchOptionsSchema, fetchImageBlobs } from './fetch-blobs.js';
export type { UnpackToCacheOptions } from './rootfs-cache.js';
export {
  findCachedRootfs,
  recordCacheUse,
  rootfsCachePath,
  UnpackToCacheOptionsSchema,
  unpackToCache,
} from './rootfs-cache.js';
