import { defineBerthError } from '@berth-oci/errors';

export type ConmonErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_CONMON_SYNC'
  | 'ERR_CONMON_NOT_FOUND'
  | 'ERR_CONMON_START'
  | 'ERR_CONMON_CREATE'
  | 'ERR_CONMON_TIMEOUT'
  | 'ERR_CONMON_LOG'
  | 'ERR_CONMON_PATH';

export class ConmonError extends defineBerthError<ConmonErrorCode>('ConmonError') {}
