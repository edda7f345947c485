import { defineBerthError } from '@berth-oci/errors';

/** Every code `@berth-oci/lock` throws. */
export type LockErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_LOCK_NO_FLOCK'
  | 'ERR_LOCK_FAILED'
  | 'ERR_LOCK_TIMEOUT';

/** The error `@berth-oci/lock` throws; a `BerthError`, recognised by `isBerthError`. */
export class LockError extends defineBerthError<LockErrorCode>('LockError') {}
