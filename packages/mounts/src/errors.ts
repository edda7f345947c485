import { BerthError, type BerthErrorOptions } from '@berth-oci/errors';

/** Every code `@berth-oci/mounts` throws (besides `ERR_INVALID_OPTIONS` from `@berth-oci/errors`). */
export type MountsErrorCode =
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
export class MountsError extends BerthError {
  declare readonly code: MountsErrorCode;

  constructor(code: MountsErrorCode, message: string, options: BerthErrorOptions = {}) {
    super(code, message, options);
    this.name = 'MountsError';
  }
}
