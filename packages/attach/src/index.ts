export type { AttachOptions, AttachResult } from './attach.js';
export { AttachOptionsSchema, attach, resizeTerminal } from './attach.js';
export { DEFAULT_DETACH_KEYS, parseDetachKeys } from './detach-keys.js';
export type { AttachErrorCode } from './errors.js';
export { AttachError } from './errors.js';
