import { defineBerthError } from '@berth-oci/errors';

/** Error codes thrown by @berth-oci/launcher (errors of the packages it calls pass through). */
export type LaunchErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_LAUNCH_USERNS'
  | 'ERR_LAUNCH_UNPACK'
  | 'ERR_LAUNCH_ARGS'
  | 'ERR_LAUNCH_USER'
  | 'ERR_LAUNCH_PATH'
  | 'ERR_LAUNCH_INTERRUPTED'
  | 'ERR_LAUNCH_UNSUPPORTED'
  | 'ERR_LAUNCH_OPTIONS'
  | 'ERR_LAUNCH_HOME'
  | 'ERR_LAUNCH_WORKDIR'
  | 'ERR_LAUNCH_OVERLAY'
  | 'ERR_LAUNCH_ENV_FILE'
  | 'ERR_LAUNCH_CDI'
  | 'ERR_LAUNCH_CGROUPS'
  | 'ERR_LAUNCH_SETGROUPS'
  | 'ERR_LAUNCH_BUNDLE'
  | 'ERR_LAUNCH_SITE_CONFIG';

export class LaunchError extends defineBerthError<LaunchErrorCode>('LaunchError') {}
