import { parseOptions } from '@berth-oci/errors';
import * as v from 'valibot';
import { BundleSpecError } from './errors.js';
import type { Capabilities } from './schemas.js';

/** Every Linux capability, in kernel number order (0 .. 40, Linux 5.9+). */
export const ALL_CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
]);

/** SingularityCE's default set for OCI-mode (docs/singularity-compat.md, "Capabilities"), in its order. */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_NET_RAW',
  'CAP_NET_BIND_SERVICE',
  'CAP_AUDIT_READ',
  'CAP_AUDIT_WRITE',
  'CAP_DAC_OVERRIDE',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_MKNOD',
  'CAP_CHOWN',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SYS_CHROOT',
]);

const KNOWN = new Set(ALL_CAPABILITIES);

/**
 * Normalises capability names as `--add-caps`/`--drop-caps` take them: comma lists are
 * split, names are upper-cased and get a `CAP_` prefix, `ALL` expands to every known
 * capability. Returns the known names (deduplicated, in order) and the unknown ones, which
 * a caller may warn about.
 */
export function normalizeCapabilities(names: string[]): { known: string[]; unknown: string[] } {
  const list = parseOptions(v.array(v.string()), names, 'capability names', BundleSpecError);
  const known = new Set<string>();
  const unknown = new Set<string>();
  for (const item of list) {
    for (const part of item.split(',')) {
      const name = part.trim().toUpperCase();
      if (name === '') continue;
      if (name === 'ALL' || name === 'CAP_ALL') {
        for (const c of ALL_CAPABILITIES) known.add(c);
        continue;
      }
      const full = name.startsWith('CAP_') ? name : `CAP_${name}`;
      if (KNOWN.has(full)) known.add(full);
      else unknown.add(part.trim());
    }
  }
  return { known: [...known], unknown: [...unknown] };
}

export const CapabilitySetOptionsSchema = v.strictObject({
  /** The uid the container process runs as; 0 gets the root set. */
  targetUid: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** The base set; default `DEFAULT_CAPABILITIES`. `[]` for `--no-privs`. */
  base: v.optional(v.array(v.string())),
  /** `--add-caps`. */
  add: v.optional(v.array(v.string()), []),
  /** `--drop-caps`. */
  drop: v.optional(v.array(v.string()), []),
});
export type CapabilitySetOptions = v.InferInput<typeof CapabilitySetOptionsSchema>;

function known(names: string[], what: string): string[] {
  const { known, unknown } = normalizeCapabilities(names);
  if (unknown.length > 0) {
    throw new BundleSpecError(
      'ERR_SPEC_UNKNOWN_CAPABILITY',
      `unknown ${what} capabilit${unknown.length === 1 ? 'y' : 'ies'}: ${unknown.join(', ')}`,
      { hint: 'filter names with normalizeCapabilities() first; known names are CAP_CHOWN, ...' },
    );
  }
  return known;
}

/**
 * The process capability sets, as SingularityCE computes them (docs/singularity-compat.md,
 * "Capabilities"):
 * `caps = dedupe(base + add) - drop`. For uid 0 permitted, effective and bounding are
 * `caps` and inheritable and ambient are empty; for other uids bounding is `caps` and the
 * four others hold only `add - drop`. Unknown names throw `ERR_SPEC_UNKNOWN_CAPABILITY`.
 */
export function capabilitySet(options: CapabilitySetOptions): Capabilities {
  const opts = parseOptions(
    CapabilitySetOptionsSchema,
    options,
    'capabilitySet options',
    BundleSpecError,
  );
  const base = known(opts.base ?? [...DEFAULT_CAPABILITIES], 'base');
  const add = known(opts.add, 'added');
  const drop = new Set(known(opts.drop, 'dropped'));
  const caps = [...new Set([...base, ...add])].filter((c) => !drop.has(c));
  if (opts.targetUid === 0) {
    return {
      bounding: [...caps],
      effective: [...caps],
      inheritable: [],
      permitted: [...caps],
      ambient: [],
    };
  }
  const extra = add.filter((c) => !drop.has(c));
  return {
    bounding: caps,
    effective: [...extra],
    inheritable: [...extra],
    permitted: [...extra],
    ambient: [...extra],
  };
}
