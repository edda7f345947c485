// The content model and the core resolve step: references, digests, media types, document
// schemas, verified blob reads, and the walk from a descriptor down to a verified manifest and
// config that every transport shares.
export type { BlobLocation, BlobSource } from './blob-source.js';
export { BlobSourceSchema, locateBlob } from './blob-source.js';
export { assertDigest, digestHex, isDigest } from './digest.js';
export type { ImageDefaults } from './image-defaults.js';
export { imageDefaults } from './image-defaults.js';
export type { DockerRef, ImageRef } from './image-ref.js';
export {
  formatImageRef,
  ImageRefSchema,
  parseDockerReference,
  parseImageRef,
} from './image-ref.js';
export type { Resolved } from './manifest-walk.js';
export { checkConfigPlatform, followDescriptor } from './manifest-walk.js';
export { MediaTypes } from './media-types.js';
export type { PlatformChoice } from './platform.js';
export { formatPlatform, hostPlatform, PlatformChoiceSchema, parsePlatform } from './platform.js';
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
