import { BerthError, type BerthErrorOptions } from '@berth/errors';

export type ConmonErrorCode = 'ERR_CONMON_SYNC';

export class ConmonError extends BerthError {
  declare readonly code: ConmonErrorCode;
  constructor(code: ConmonErrorCode, message: string, options?: BerthErrorOptions) {
    super(code, message, options);
    this.name = 'ConmonError';
  }
}
