import { defineBerthError } from '@berth-oci/errors';

/**
 * Error codes of the berth command line. `ERR_CLI_USAGE`: a command line berth cannot run (an
 * unknown flag, a missing or bad value); it exits 255 with `hint: see berth ... --help`.
 */
export type CliErrorCode = 'ERR_CLI_USAGE';

export class CliError extends defineBerthError<CliErrorCode>('CliError') {}
