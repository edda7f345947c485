import { BerthError, type BerthErrorOptions } from '@berth-oci/errors';

export type AttachErrorCode = 'ERR_ATTACH_DETACH_KEYS' | 'ERR_ATTACH_CONNECT';

export class AttachError extends BerthError {
  declare readonly code: AttachErrorCode;
  constructor(code: AttachErrorCode, message: string, options?: BerthErrorOptions) {
    super(code, message, options);
    this.name = 'AttachError';
  }
}
