import { defineBerthError } from '@berth-oci/errors';

/** Error codes thrown by @berth-oci/runtime-ops. */
export type RuntimeErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_RUNTIME_NOT_FOUND'
  | 'ERR_RUNTIME_UNKNOWN'
  | 'ERR_RUNTIME_STATE_DIR'
  | 'ERR_RUNTIME_SPAWN'
  | 'ERR_RUNTIME_OP'
  | 'ERR_RUNTIME_STATE_JSON'
  | 'ERR_RUNTIME_NO_CONTAINER'
  | 'ERR_RUNTIME_CONTAINER_EXISTS'
  | 'ERR_RUNTIME_CONTAINER_STATE'
  | 'ERR_RUNTIME_BUNDLE'
  | 'ERR_RUNTIME_BUNDLE_LOCKED'
  | 'ERR_RUNTIME_LOCK'
  | 'ERR_RUNTIME_HOLDER';

export class RuntimeError extends defineBerthError<RuntimeErrorCode>('RuntimeError') {}
