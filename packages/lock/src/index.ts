export type { LockErrorCode } from './errors.js';
export { LockError } from './errors.js';
export type { AcquireLockOptions, Lock } from './lock.js';
export { AcquireLockOptionsSchema, acquireLock, withLock } from './lock.js';
