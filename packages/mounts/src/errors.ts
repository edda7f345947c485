import { defineBerthError } from '@berth-oci/errors';

/** Every code `@berth-oci/mounts` throws. */
export type MountsErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_MOUNTS_NO_MOUNT_REQUIRED'
  | 'ERR_MOUNTS_BIND_SPEC'
  | 'ERR_MOUNTS_BIND_OPTION'
  | 'ERR_MOUNTS_BIND_UNSUPPORTED'
  | 'ERR_MOUNTS_BIND_DESTINATION'
  | 'ERR_MOUNTS_BIND_SOURCE'
  | 'ERR_MOUNTS_BIND_DEVICE'
  | 'ERR_MOUNTS_MOUNT_SPEC'
  | 'ERR_MOUNTS_HOME'
  | 'ERR_MOUNTS_SCRATCH'
  | 'ERR_MOUNTS_WORKDIR';

/** The error `@berth-oci/mounts` throws; a `BerthError`, recognised by `isBerthError`. */
export class MountsError extends defineBerthError<MountsErrorCode>('MountsError') {}
