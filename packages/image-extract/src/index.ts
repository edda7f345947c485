export type { UnpackToCacheOptions } from './cache.js';
export {
  defaultCacheDir,
  findCachedRootfs,
  rootfsCachePath,
  UnpackToCacheOptionsSchema,
  unpackToCache,
} from './cache.js';
export type { ImageDefaults } from './defaults.js';
export { imageDefaults } from './defaults.js';
export { isDigest } from './digest.js';
export type { ImageErrorCode } from './errors.js';
export { ImageError } from './errors.js';
export { MediaTypes } from './media-types.js';
export type { PlatformChoice } from './platform.js';
export { hostPlatform, PlatformChoiceSchema } from './platform.js';
export type { ImageRef } from './ref.js';
export { formatImageRef, ImageRefSchema, parseImageRef } from './ref.js';
export type { ResolvedImage, ResolveOptions } from './resolve.js';
export { ResolveOptionsSchema, resolveImage } from './resolve.js';
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
export type {
  OwnerMap,
  UnpackLimits,
  UnpackOptions,
  UnpackProgress,
  UnpackStats,
} from './unpack.js';
export {
  UnpackLimitsSchema,
  UnpackOptionsSchema,
  unpackImage,
  unpackImageAtomic,
} from './unpack.js';
