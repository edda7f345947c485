import type { OptionKind, OptionSpec } from '@berth-oci/launcher';

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

/**
 * The options a parsed command line sets: `parsed` holds each flag's values under its long
 * name (as yargs and the fast path leave them; an alias's name is read when the long one is
 * absent). Options left unset are absent; cgroup limits go to `limits`, which is present only
 * when a limit flag was given; flags sharing a boolean key combine with "or".
 */
export function optionValues(
  flags: readonly OptionSpec[],
  parsed: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const limits: Record<string, unknown> = {};
  for (const f of flags) {
    const names = [f.flag, ...(f.aliases ?? []), ...(f.short ?? [])];
    const raw = parsed[names.find((n) => parsed[n] !== undefined) ?? f.flag];
    const value = convert(f.kind, raw);
    if (value === undefined) continue;
    const inLimits = f.key.startsWith('limits.');
    if (inLimits && (value === false || (Array.isArray(value) && value.length === 0))) continue;
    const target = inLimits ? limits : out;
    const key = inLimits ? f.key.slice('limits.'.length) : f.key;
    target[key] = target[key] === true || value;
  }
  if (Object.keys(limits).length > 0) out.limits = limits;
  return out;
}
