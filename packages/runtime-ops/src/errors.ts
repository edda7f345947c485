import { BerthError, type BerthErrorOptions } from '@berth/errors';

/** Error codes thrown by @berth/runtime-ops. */
export type RuntimeErrorCode =
  | 'ERR_RUNTIME_NOT_FOUND'
  | 'ERR_RUNTIME_UNKNOWN'
  | 'ERR_RUNTIME_STATE_DIR'
  | 'ERR_RUNTIME_SPAWN';

export class RuntimeError extends BerthError {
  declare readonly code: RuntimeErrorCode;
  constructor(code: RuntimeErrorCode, message: string, options?: BerthErrorOptions) {
    super(code, message, options);
    this.name = 'RuntimeError';
  }
}
