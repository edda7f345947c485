export type { ConmonArgsOptions } from './args.js';
export { ConmonArgsOptionsSchema, conmonArgs } from './args.js';
export type { ConmonErrorCode } from './errors.js';
export { ConmonError } from './errors.js';
export type { SyncMessage } from './sync.js';
export { parseSyncMessage } from './sync.js';
