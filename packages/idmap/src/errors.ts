import { BerthError, type BerthErrorOptions } from '@berth/errors';

/** Every code `@berth/idmap` throws (besides `ERR_INVALID_OPTIONS` from `@berth/errors`). */
export type IdmapErrorCode =
  | 'ERR_IDMAP_PARSE'
  | 'ERR_IDMAP_NO_ENTRY'
  | 'ERR_IDMAP_DISABLED'
  | 'ERR_IDMAP_RANGE_TOO_SMALL'
  | 'ERR_IDMAP_READ';

/** The error `@berth/idmap` throws; a `BerthError`, recognised by `isBerthError`. */
export class IdmapError extends BerthError {
  declare readonly code: IdmapErrorCode;

  constructor(code: IdmapErrorCode, message: string, options: BerthErrorOptions = {}) {
    super(code, message, options);
    this.name = 'IdmapError';
  }
}
