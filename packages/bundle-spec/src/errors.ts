import { defineBerthError } from '@berth-oci/errors';

/** Every code `@berth-oci/bundle-spec` throws. */
export type BundleSpecErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_SPEC_INVALID'
  | 'ERR_SPEC_NOT_FOUND'
  | 'ERR_SPEC_READ'
  | 'ERR_SPEC_WRITE'
  | 'ERR_SPEC_UNKNOWN_CAPABILITY';

/** The error `@berth-oci/bundle-spec` throws; a `BerthError`, recognised by `isBerthError`. */
export class BundleSpecError extends defineBerthError<BundleSpecErrorCode>('BundleSpecError') {}
