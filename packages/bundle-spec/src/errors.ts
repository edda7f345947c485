import { BerthError, type BerthErrorOptions } from '@berth-oci/errors';

/** Every code `@berth-oci/bundle-spec` throws (besides `ERR_INVALID_OPTIONS` from `@berth-oci/errors`). */
export type BundleSpecErrorCode =
  | 'ERR_SPEC_INVALID'
  | 'ERR_SPEC_NOT_FOUND'
  | 'ERR_SPEC_READ'
  | 'ERR_SPEC_WRITE'
  | 'ERR_SPEC_UNKNOWN_CAPABILITY';

/** The error `@berth-oci/bundle-spec` throws; a `BerthError`, recognised by `isBerthError`. */
export class BundleSpecError extends BerthError {
  declare readonly code: BundleSpecErrorCode;

  constructor(code: BundleSpecErrorCode, message: string, options: BerthErrorOptions = {}) {
    super(code, message, options);
    this.name = 'BundleSpecError';
  }
}
