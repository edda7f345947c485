import type { OptionSpec } from '@berth-oci/launcher';
import * as v from 'valibot';
import { CliError } from '../errors.js';
import type { OptionSource } from './values.js';

/**
 * Checks the options a command line produced against the library's schema, so that a bad
 * value is reported by the flag that gave it (`--cwd must be an absolute path`), never by a
 * schema path: the issue's path (`limits.cpuShares`, `env[2]`) is mapped back to its flag
 * through the option table. Throws `ERR_CLI_USAGE` with `hint`.
 */
export function checkFlagValues(
  schema: v.GenericSchema,
  options: unknown,
  flags: readonly OptionSpec[],
  hint: string,
  sources: readonly OptionSource[] = [],
): void {
  const result = v.safeParse(schema, options);
  if (result.success) return;
  const issue = result.issues[0];
  const key = (issue.path ?? [])
    .map((p) => p.key)
    .filter((k) => typeof k === 'string')
    .join('.');
  const flag = flags.find((f) => f.key === key);
  // a value from a variable is reported by that variable (`SINGULARITY_HOSTNAME (--hostname) ...`)
  const fromEnv = flag
    ? sources.findLast((s) => s.flag === `--${flag.flag}` && s.from !== 'command line')
    : undefined;
  const name = flag ? (fromEnv ? `${fromEnv.from} (--${flag.flag})` : `--${flag.flag}`) : '';
  throw new CliError('ERR_CLI_USAGE', flag ? `${name} ${issue.message}` : issue.message, {
    hint,
  });
}
