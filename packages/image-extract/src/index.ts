// The public API of @berth-oci/image-extract: resolve an image, fetch its layers, unpack it
// (once, into the cache, or anywhere), list and clean the cache.
export type {
  CacheEntry,
  CacheListing,
  CleanCacheOptions,
  CleanResult,
  FetchOptions,
  FetchProgress,
  FetchStats,
  UnpackToCacheOptions,
} from './cache/index.js';
export {
  CleanCacheOptionsSchema,
  cleanCache,
  defaultCacheDir,
  FetchOptionsSchema,
  fetchImageBlobs,
  findCachedRootfs,
  listCache,
  recordCacheUse,
  rootfsCachePath,
  UnpackToCacheOptionsSchema,
  unpackToCache,
} from './cache/index.js';
export type {
  BlobSource,
  Descriptor,
  DockerRef,
  ImageConfig,
  ImageDefaults,
  ImageManifest,
  ImageRef,
  LayerDescriptor,
  Platform,
  PlatformChoice,
  ResolvedImage,
} from './core/index.js';
export {
  formatImageRef,
  formatPlatform,
  hostPlatform,
  ImageRefSchema,
  imageDefaults,
  PlatformChoiceSchema,
  parseImageRef,
  parsePlatform,
  parseResolvedImage,
  ResolvedImageSchema,
} from './core/index.js';
export type { ImageErrorCode } from './errors.js';
export { ImageError } from './errors.js';
export type { RegistryOptions, RegistryWait } from './registry/index.js';
export { RegistryOptionsSchema, TokenCache } from './registry/index.js';
export type { ResolveOptions } from './resolve.js';
export { ResolveOptionsSchema, resolveImage } from './resolve.js';
export type {
  SifDataType,
  SifFsType,
  SifImage,
  SifObject,
  SifPartType,
} from './transports/sif.js';
export { hasSifMagic, isSifFile, isSigned, readSif, systemPartition } from './transports/sif.js';
export type {
  OwnerMap,
  UnpackLimits,
  UnpackOptions,
  UnpackProgress,
  UnpackStats,
} from './unpack/index.js';
export {
  removeTree,
  UnpackLimitsSchema,
  UnpackOptionsSchema,
  unpackImage,
  unpackImageAtomic,
} from './unpack/index.js';
