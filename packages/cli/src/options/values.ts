import { type OptionKind, type OptionSpec, optionEnvKeys } from '@berth-oci/launcher';
import { CliError } from '../errors.js';

/** Splits repeatable, comma-separated `--env` values into entries (a comma inside a value stays with it when no `=` follows). */
export function splitEnv(values: string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      if (out.length > 0 && !/^[^=]+=/.test(part)) out[out.length - 1] += `,${part}`;
      else out.push(part);
    }
  }
  return out;
}

function asArray(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

const last = (v: unknown): unknown => (Array.isArray(v) ? v.at(-1) : v);

/** The option value of a flag's parsed values (one, or an array when repeated), by its kind. */
function convert(kind: OptionKind, raw: unknown): unknown {
  switch (kind) {
    case 'boolean':
      return last(raw) === true;
    case 'present':
      return raw !== undefined;
    case 'string':
      return raw === undefined || raw === null ? undefined : String(last(raw));
    case 'number':
      return raw === undefined || raw === null ? undefined : Number(last(raw));
    case 'list':
      return asArray(raw);
    case 'csv':
      return asArray(raw)
        .flatMap((x) => x.split(','))
        .map((x) => x.trim())
        .filter(Boolean);
    case 'env':
      return splitEnv(asArray(raw));
  }
}

/** Where a setting came from: `command line`, or the variable that gave it. */
export interface OptionSource {
  /** The flag (`--bind`). */
  flag: string;
  /** `command line`, or a variable name (`SINGULARITY_BIND`). */
  from: string;
  /** The value as given. */
  value: string | boolean;
}

const TRUE = ['1', 'true', 'yes'];
const FALSE = ['0', 'false', 'no'];

const splitList = (value: string) =>
  value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** The option value of a flag's variable (already known to be non-blank), by the flag's kind. */
function envValue(f: OptionSpec, name: string, raw: string): unknown {
  const value = raw.trim();
  const bad = (what: string) =>
    new CliError('ERR_CLI_USAGE', `${name} ${what}, got "${raw}"`, {
      hint: `${name} sets --${f.flag}; fix or unset it (unset ${name})`,
    });
  switch (f.kind) {
    case 'boolean': {
      if (f.envPresence) return true;
      const v = value.toLowerCase();
      if (TRUE.includes(v)) return true;
      if (FALSE.includes(v)) return false;
      throw bad('must be one of 1, 0, true, false, yes, no');
    }
    case 'present':
      return true;
    case 'number': {
      const n = Number(value);
      if (Number.isNaN(n)) throw bad('needs a number');
      return n;
    }
    case 'string':
      return value;
    case 'list':
      return f.envWhole ? [value] : splitList(value);
    case 'csv':
      return splitList(value);
    case 'env':
      return splitEnv([value]);
  }
}

/**
 * The variables that set a flag, as `[name, value]`: the first of its variables that is set
 * and not blank; for a flag whose variables add to it (`envAppend`), every variable of that
 * variable's prefix that is set (`SINGULARITY_BIND` and `SINGULARITY_BINDPATH` both add, as
 * upstream reads each of a flag's names; a `BERTH_` one still hides the upstream prefixes).
 */
export function flagFromEnv(
  f: OptionSpec,
  env: Record<string, string | undefined>,
): [string, string][] {
  const set = optionEnvKeys(f).filter((name) => (env[name] ?? '').trim() !== '');
  const first = set[0];
  if (first === undefined) return [];
  const prefix = first.slice(0, first.indexOf('_') + 1);
  const chosen = f.envAppend ? set.filter((name) => name.startsWith(prefix)) : [first];
  return chosen.map((name) => [name, env[name] as string]);
}

/**
 * The options a parsed command line and the environment set, and where each came from.
 * `parsed` holds each flag's values under its long name (as yargs and the fast path leave
 * them; an alias's name is read when the long one is absent). A flag not on the command line
 * is read from the first of its variables that is set (`optionEnvKeys`: `BERTH_<FLAG>`, then
 * `APPTAINER_`, then `SINGULARITY_` names); the command line wins, but for flags whose
 * variable adds to it (`envAppend`: `--bind`, `--mount`, as upstream). Options left unset are
 * absent; cgroup limits go to `limits`, which is present only when a limit flag was given;
 * flags sharing a boolean key combine with "or". A malformed variable is an `ERR_CLI_USAGE`
 * naming it.
 */
export function resolveOptions(
  flags: readonly OptionSpec[],
  parsed: Record<string, unknown>,
  env: Record<string, string | undefined> = {},
): { options: Record<string, unknown>; sources: OptionSource[] } {
  const out: Record<string, unknown> = {};
  const limits: Record<string, unknown> = {};
  const sources: OptionSource[] = [];
  for (const f of flags) {
    const names = [f.flag, ...(f.aliases ?? []), ...(f.short ?? [])];
    const raw = parsed[names.find((n) => parsed[n] !== undefined) ?? f.flag];
    const given = raw !== undefined && raw !== null;
    let value = convert(f.kind, raw);
    if (given)
      for (const r of Array.isArray(raw) ? raw : [raw])
        sources.push({
          flag: `--${f.flag}`,
          from: 'command line',
          value: typeof r === 'boolean' ? r : String(r),
        });
    for (const [name, text] of !given || f.envAppend ? flagFromEnv(f, env) : []) {
      const v = envValue(f, name, text);
      value = Array.isArray(value) && Array.isArray(v) ? [...value, ...v] : v;
      sources.push({ flag: `--${f.flag}`, from: name, value: text });
    }
    if (value === undefined) continue;
    const inLimits = f.key.startsWith('limits.');
    if (inLimits && (value === false || (Array.isArray(value) && value.length === 0))) continue;
    const target = inLimits ? limits : out;
    const key = inLimits ? f.key.slice('limits.'.length) : f.key;
    target[key] = target[key] === true || value;
  }
  if (Object.keys(limits).length > 0) out.limits = limits;
  return { options: out, sources };
}

/** The options of `resolveOptions`, without their sources. */
export function optionValues(
  flags: readonly OptionSpec[],
  parsed: Record<string, unknown>,
  env: Record<string, string | undefined> = {},
): Record<string, unknown> {
  return resolveOptions(flags, parsed, env).options;
}
