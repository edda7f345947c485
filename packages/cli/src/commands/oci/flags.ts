/**
 * The flags of the `oci` commands, as a table like run/exec's: each can be set by its variable
 * (`BERTH_<FLAG>`, and `APPTAINER_`/`SINGULARITY_<FLAG>` where SingularityCE's `oci` commands
 * read one: `BUNDLE`, `LOG_PATH`, `LOG_FORMAT`, `PID_FILE`, `SIGNAL`, `FORCE` of kill,
 * `FROM_FILE`), with the same precedence and value rules (options/values.ts).
 */
import type { FlagSpec, OptionSpec } from '@berth-oci/launcher';
import type { Options } from 'yargs';
import { CliError } from '../../errors.js';
import { yargsOptions } from '../../options/flags.js';
import { resolveOptions } from '../../options/values.js';

/** A flag whose value is read under its own name (`log-path`). */
type OciFlag = FlagSpec & { key: string };

/** `envNames: []`: berth's own flag, only a `BERTH_` variable. */
const own = { envNames: [] } as const;

export const BUNDLE: OciFlag = {
  flag: 'bundle',
  key: 'bundle',
  short: ['b'],
  kind: 'string',
  description: 'the bundle directory (config.json and rootfs); required',
};
export const LOG_PATH: OciFlag = {
  flag: 'log-path',
  key: 'log-path',
  short: ['l'],
  kind: 'string',
  description: "file for the container's output log (default: in its state directory)",
};
export const LOG_FORMAT: OciFlag = {
  flag: 'log-format',
  key: 'log-format',
  kind: 'string',
  description:
    'k8s-file (alias kubernetes; the default) or json (JSON lines, kept current while it runs)',
};
export const PID_FILE: OciFlag = {
  flag: 'pid-file',
  key: 'pid-file',
  kind: 'string',
  description: "write the container's pid to this file",
};
export const RUNTIME: OciFlag = {
  flag: 'runtime',
  key: 'runtime',
  kind: 'string',
  description: 'OCI runtime: crun, runc or a path (default: crun, then runc)',
  ...own,
};
export const DETACH_KEYS: OciFlag = {
  flag: 'detach-keys',
  key: 'detach-keys',
  kind: 'string',
  description:
    'keys that detach and leave the container running (default ctrl-p,ctrl-q; "" disables)',
  ...own,
};
export const SIGNAL: OciFlag = {
  flag: 'signal',
  key: 'signal',
  short: ['s'],
  kind: 'string',
  description: 'signal to send (default SIGTERM)',
};
export const KILL_FORCE: OciFlag = {
  flag: 'force',
  key: 'force',
  short: ['f'],
  kind: 'boolean',
  description: 'send SIGKILL',
};
export const DELETE_FORCE: OciFlag = {
  ...KILL_FORCE,
  description: 'kill it first if it is running',
  ...own,
};
export const TTY: OciFlag = {
  flag: 'tty',
  key: 'tty',
  short: ['t'],
  kind: 'boolean',
  description: 'give the command a terminal',
  ...own,
};
export const FROM_FILE: OciFlag = {
  flag: 'from-file',
  key: 'from-file',
  short: ['f'],
  kind: 'string',
  description: 'linux.resources JSON file ("-" reads stdin); required',
};
export const JSON_OUT: OciFlag = {
  flag: 'json',
  key: 'json',
  kind: 'boolean',
  description: 'print JSON (OCI states)',
  ...own,
};
export const QUIET: OciFlag = {
  flag: 'quiet',
  key: 'quiet',
  short: ['q'],
  kind: 'boolean',
  description: 'print no warnings',
  ...own,
};

export const CREATE_FLAGS = [BUNDLE, LOG_PATH, LOG_FORMAT, PID_FILE, RUNTIME];

/** The yargs options of some oci flags, each naming its variables in `--help`. */
export const ociYargs = (flags: readonly OciFlag[]): Record<string, Options> =>
  yargsOptions(flags, true);

/**
 * The values of `flags` from the command line, else from their variables (a malformed value is
 * an error naming the variable); strings stay strings, switches are booleans.
 */
export function ociValues(
  flags: readonly OciFlag[],
  parsed: Record<string, unknown>,
  env: Record<string, string | undefined>,
): Record<string, unknown> {
  return resolveOptions(flags as unknown as OptionSpec[], parsed, env).options;
}

/**
 * Checks the value of `f` with `check`; when the value came from a variable, a refusal names
 * the variable (`BERTH_LOG_FORMAT="x" is refused: unknown log format "x"`).
 */
export function checkedValue<T>(
  f: OciFlag,
  parsed: Record<string, unknown>,
  env: Record<string, string | undefined>,
  check: (value: string | undefined) => T,
): T {
  const { options, sources } = resolveOptions([f as unknown as OptionSpec], parsed, env);
  const value = options[f.key];
  try {
    return check(value === undefined ? undefined : String(value));
  } catch (e) {
    const from = sources.find((x) => x.from !== 'command line')?.from;
    if (from === undefined) throw e;
    throw new CliError(
      'ERR_CLI_USAGE',
      `${from}="${String(value)}" is refused: ${(e as Error).message}`,
      {
        hint: `${from} sets --${f.flag}; fix or unset it (unset ${from})`,
        cause: e,
      },
    );
  }
}

/** A flag that must be set, on the command line or by its variable. */
export function required(values: Record<string, unknown>, f: OciFlag, command: string): string {
  const value = values[f.key];
  if (typeof value === 'string') return value;
  throw new CliError('ERR_CLI_USAGE', `${command} needs --${f.flag}`, {
    hint: `give --${f.flag} ${f.flag === 'bundle' ? 'DIR' : 'FILE'} (or set BERTH_${f.flag.toUpperCase().replace(/-/g, '_')})`,
  });
}
