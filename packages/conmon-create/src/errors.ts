import { BerthError, type BerthErrorOptions } from '@berth-oci/errors';

export type ConmonErrorCode =
  | 'ERR_CONMON_SYNC'
  | 'ERR_CONMON_NOT_FOUND'
  | 'ERR_CONMON_START'
  | 'ERR_CONMON_CREATE'
  | 'ERR_CONMON_TIMEOUT'
  | 'ERR_CONMON_LOG';

export class ConmonError extends BerthError {
  declare readonly code: ConmonErrorCode;
  constructor(code: ConmonErrorCode, message: string, options?: BerthErrorOptions) {
    super(code, message, options);
    this.name = 'ConmonError';
  }
}
