export type { Credentials } from './auth.js';
export { authKeys, defaultAuthFiles, findCredentials } from './auth.js';
export { blobCacheDir, blobCachePath } from './blob-cache.js';
export type {
  CacheEntry,
  CacheListing,
  CacheMeta,
  CleanCacheOptions,
  CleanResult,
  UnpackToCacheOptions,
} from './cache.js';
export {
  CacheMetaSchema,
  CleanCacheOptionsSchema,
  cleanCache,
  defaultCacheDir,
  findCachedRootfs,
  listCache,
  recordCacheUse,
  rootfsCachePath,
  UnpackToCacheOptionsSchema,
  unpackToCache,
} from './cache.js';
export type { ImageDefaults } from './defaults.js';
export { imageDefaults } from './defaults.js';
export { isDigest } from './digest.js';
export type { ImageErrorCode } from './errors.js';
export { ImageError } from './errors.js';
export type { FetchOptions, FetchProgress, FetchStats } from './fetch.js';
export { FetchOptionsSchema, fetchImageBlobs } from './fetch.js';
export type { Lock } from './lock.js';
export { acquireLock, withLock } from './lock.js';
export { MediaTypes } from './media-types.js';
export type { PlatformChoice } from './platform.js';
export { formatPlatform, hostPlatform, PlatformChoiceSchema, parsePlatform } from './platform.js';
export type { DockerRef, ImageRef } from './ref.js';
export { formatImageRef, ImageRefSchema, parseDockerReference, parseImageRef } from './ref.js';
export type { RegistryOptions } from './registry.js';
export { RegistryClient, RegistryOptionsSchema, registryOrigin } from './registry.js';
export type { ResolveOptions } from './resolve.js';
export { blobLocation, ResolveOptionsSchema, resolveImage } from './resolve.js';
export type { ResolvedImage } from './resolved-image.js';
export { parseResolvedImage, ResolvedImageSchema } from './resolved-image.js';
export type {
  Descriptor,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  LayerDescriptor,
  Platform,
} from './schemas.js';
export {
  DescriptorSchema,
  ImageConfigSchema,
  ImageIndexSchema,
  ImageManifestSchema,
  PlatformSchema,
} from './schemas.js';
export type { BlobLocation, BlobSource } from './source.js';
export { BlobSourceSchema } from './source.js';
export type {
  OwnerMap,
  UnpackLimits,
  UnpackOptions,
  UnpackProgress,
  UnpackStats,
} from './unpack.js';
export {
  removeTree,
  UnpackLimitsSchema,
  UnpackOptionsSchema,
  unpackImage,
  unpackImageAtomic,
} from './unpack.js';
export { MAX_ZSTD_WINDOW } from './zstd.js';
