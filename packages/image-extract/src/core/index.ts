// The content model and the core resolve step: references, platforms, document schemas and
// the image config's defaults; the resolved image that crosses to other processes.
export type { BlobSource } from './blob-source.js';
export type { ImageDefaults } from './image-defaults.js';
export { imageDefaults } from './image-defaults.js';
export type { DockerRef, ImageRef } from './image-ref.js';
export { formatImageRef, ImageRefSchema, parseImageRef } from './image-ref.js';
export type { PlatformChoice } from './platform.js';
export { formatPlatform, hostPlatform, PlatformChoiceSchema, parsePlatform } from './platform.js';
export type { ResolvedImage } from './resolved-image.js';
export { parseResolvedImage, ResolvedImageSchema } from './resolved-image.js';
export type {
  Descriptor,
  ImageConfig,
  ImageManifest,
  LayerDescriptor,
  Platform,
} from './schemas.js';
