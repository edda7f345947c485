export type { BindMountsOptions, BindSpec } from './binds.js';
export { BindMountsOptionsSchema, BindSpecSchema, bindMounts, parseBindSpecs } from './binds.js';
export type { DefaultMountsOptions } from './defaults.js';
export { DefaultMountsOptionsSchema, defaultMounts } from './defaults.js';
export type { MountsErrorCode } from './errors.js';
export { MountsError } from './errors.js';
export { cleanContainerPath } from './paths.js';
