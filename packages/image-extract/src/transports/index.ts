// The transports: each resolves its kind of reference to a verified manifest and config, and
// says where the image's blobs are read from.
export { resolveDockerArchive } from './docker-archive.js';
export { resolveLayout } from './oci-layout.js';
export { resolveFromRegistry } from './registry.js';
