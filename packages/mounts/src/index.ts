export type { BindMountsOptions, BindSpec } from './binds.js';
export {
  BindMountsOptionsSchema,
  BindSpecSchema,
  bindMounts,
  checkBindSource,
  parseBindSpecs,
} from './binds.js';
export type { DefaultMountsOptions } from './defaults.js';
export { DefaultMountsOptionsSchema, defaultMounts } from './defaults.js';
export type { MountsErrorCode } from './errors.js';
export { MountsError } from './errors.js';
export type { HomeSpec } from './options.js';
export {
  NO_MOUNT_NAMES,
  parseHomeSpec,
  parseMountSpecs,
  parseNoMount,
  parseScratchDirs,
  workdirDirectories,
} from './options.js';
