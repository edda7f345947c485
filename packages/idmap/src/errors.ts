import { BerthError, type BerthErrorOptions } from '@berth-oci/errors';

/** Every code `@berth-oci/idmap` throws (besides `ERR_INVALID_OPTIONS` from `@berth-oci/errors`). */
export type IdmapErrorCode =
  | 'ERR_IDMAP_PARSE'
  | 'ERR_IDMAP_NO_ENTRY'
  | 'ERR_IDMAP_DISABLED'
  | 'ERR_IDMAP_RANGE_TOO_SMALL'
  | 'ERR_IDMAP_READ';

/** The error `@berth-oci/idmap` throws; a `BerthError`, recognised by `isBerthError`. */
export class IdmapError extends BerthError {
  declare readonly code: IdmapErrorCode;

  constructor(code: IdmapErrorCode, message: string, options: BerthErrorOptions = {}) {
    super(code, message, options);
    this.name = 'IdmapError';
  }
}
