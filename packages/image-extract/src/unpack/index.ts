// Unpacking: layer blobs, verified, through gzip/zstd and berth's tar reader into a rootfs
// (whiteouts, links, ownership, modes).
export { removeTree } from './remove-tree.js';
export type { OwnerMap } from './rootfs-writer.js';
export type { UnpackLimits, UnpackOptions, UnpackProgress, UnpackStats } from './unpack.js';
export {
  UnpackLimitsSchema,
  UnpackOptionsSchema,
  unpackImage,
  unpackImageAtomic,
} from './unpack.js';
