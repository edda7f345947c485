import { defineBerthError } from '@berth-oci/errors';

/**
 * Error codes of the berth command line. `ERR_CLI_USAGE`: a command line berth cannot run (an
 * unknown flag, a missing or bad value); it exits 255 with `hint: see berth ... --help`.
 * `ERR_CLI_PULL_FILE`: `pull --name FILE` cannot write FILE (it exists, or the image is not
 * one it can write).
 */
export type CliErrorCode = 'ERR_CLI_USAGE' | 'ERR_CLI_PULL_FILE';

export class CliError extends defineBerthError<CliErrorCode>('CliError') {}
