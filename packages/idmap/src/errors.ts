import { defineBerthError } from '@berth-oci/errors';

/** Every code `@berth-oci/idmap` throws. */
export type IdmapErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_IDMAP_PARSE'
  | 'ERR_IDMAP_NO_ENTRY'
  | 'ERR_IDMAP_DISABLED'
  | 'ERR_IDMAP_RANGE_TOO_SMALL'
  | 'ERR_IDMAP_READ';

/** The error `@berth-oci/idmap` throws; a `BerthError`, recognised by `isBerthError`. */
export class IdmapError extends defineBerthError<IdmapErrorCode>('IdmapError') {}
