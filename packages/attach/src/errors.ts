import { defineBerthError } from '@berth-oci/errors';

export type AttachErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_ATTACH_DETACH_KEYS'
  | 'ERR_ATTACH_CONNECT';

export class AttachError extends defineBerthError<AttachErrorCode>('AttachError') {}
