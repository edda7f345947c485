import { isIP } from 'node:net';
import { normalizeCapabilities } from '@berth-oci/bundle-spec';
import { parseNoMount } from '@berth-oci/mounts';
import type { Runtime } from '@berth-oci/runtime-ops';
import { LaunchError } from './errors.js';
import { LAUNCH_OPTION_TABLE } from './option-table.js';
import type { ResolvedLaunchOptions } from './options.js';

/** Upstream's name of a network other than `none` with `--net`, the one conditional refusal. */
const NETWORK = 'Network (except none)';

/** The options upstream's OCI launcher refuses, in the order of its `checkOpts`. */
const UPSTREAM_CHECK_ORDER = [
  'FuseMount',
  'NvCCLI',
  NETWORK,
  'NetworkArgs',
  'NetnsPath',
  'SecurityOpts',
  'ShellPath',
  'Boot',
  'NoInit',
  'Contain',
  'ContainAll',
  'KeyInfo',
  'SIFFUSE',
];

const isSet = (value: unknown) =>
  value === true ||
  (Array.isArray(value) ? value.length > 0 : typeof value === 'string' && value !== '');

/**
 * The options upstream's OCI launcher refuses (its `checkOpts`), by upstream's names and in its
 * order, each with the berth flag that sets it (the `refused` rows of the option table; flags
 * setting one key are joined by `/`). `--compat` implies NoInit and ContainAll.
 */
export function unsupportedOptions(o: ResolvedLaunchOptions): { name: string; flag: string }[] {
  const bad: { name: string; flag: string }[] = [];
  for (const name of UPSTREAM_CHECK_ORDER) {
    if (name === NETWORK) {
      if (o.net && o.network !== 'none') bad.push({ name, flag: `--network ${o.network}` });
      continue;
    }
    const rows = LAUNCH_OPTION_TABLE.filter((r) => r.refused?.includes(name));
    const key = rows.map((r) => r.key).find((k) => isSet((o as Record<string, unknown>)[k]));
    if (key === undefined) continue;
    const flags = rows.filter((r) => r.key === key).map((r) => `--${r.flag}`);
    bad.push({ name, flag: flags.join('/') });
  }
  return bad;
}

/** The longest host name Linux takes (HOST_NAME_MAX). */
export const MAX_HOSTNAME_LENGTH = 64;

const HOSTNAME_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Whether `name` is a host name the container can take: RFC 1123 labels (letters, digits and
 * inner hyphens, 1-63 characters) joined by dots, at most MAX_HOSTNAME_LENGTH characters.
 */
export function isValidHostname(name: string): boolean {
  return name.length <= MAX_HOSTNAME_LENGTH && name.split('.').every((l) => HOSTNAME_LABEL.test(l));
}

/**
 * Whether `list` is a cpuset list the kernel takes (`cpuset.cpus`, `cpuset.mems`): numbers and
 * ascending ranges separated by commas, `0-2,4`.
 */
export function isCpusetList(list: string): boolean {
  return list.split(',').every((part) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    return m !== null && (m[2] === undefined || Number(m[1]) <= Number(m[2]));
  });
}

/**
 * Refuses what upstream refuses before doing any work: `--compat` with `--no-compat`, the
 * options of `unsupportedOptions` (`not supported by OCI launcher: A,B`), and `--writable`.
 * Then what berth refuses where upstream would go on and fail later or silently ignore the
 * value (docs/singularity-compat.md): a `--hostname` that is not an RFC 1123 name, unknown
 * `--add-caps`/`--drop-caps` names (upstream warns and ignores them) and unknown `--no-mount`
 * names (upstream ignores them), so that a typo never runs a container other than the one asked for;
 * and a `--cpuset-cpus`/`--cpuset-mems` that is not a cpuset list (`isCpusetList`).
 */
export function checkOptions(o: ResolvedLaunchOptions): void {
  if (o.compat && o.noCompat) {
    throw new LaunchError(
      'ERR_LAUNCH_OPTIONS',
      'cannot use --no-compat with --compat: incompatible options',
      { hint: 'choose one of them' },
    );
  }
  const bad = unsupportedOptions(o);
  if (bad.length > 0) {
    const flags = [...new Set(bad.map((b) => b.flag))];
    throw new LaunchError(
      'ERR_LAUNCH_UNSUPPORTED',
      `not supported by OCI launcher: ${bad.map((b) => b.name).join(',')}`,
      {
        hint: `berth runs containers as SingularityCE's --oci mode does; remove ${flags.join(', ')}${
          bad.some((b) => b.name.startsWith('Network'))
            ? ' (only --net --network none is supported)'
            : ''
        }`,
      },
    );
  }
  if (o.writable) {
    throw new LaunchError(
      'ERR_LAUNCH_OPTIONS',
      `image ${o.image} does not contain a writable overlay`,
      {
        hint: 'use --writable-tmpfs (the default) or --overlay DIR for a persistent writable layer',
      },
    );
  }
  if (o.hostname !== undefined && o.hostname !== '' && !isValidHostname(o.hostname)) {
    throw new LaunchError(
      'ERR_LAUNCH_OPTIONS',
      `--hostname ${JSON.stringify(o.hostname)} is not a valid host name`,
      {
        hint: `use letters, digits and inner hyphens, in dot-separated labels of 1-63 characters, at most ${MAX_HOSTNAME_LENGTH} in all`,
      },
    );
  }
  for (const [flag, names] of [
    ['--add-caps', o.addCaps],
    ['--drop-caps', o.dropCaps],
  ] as const) {
    const { unknown } = normalizeCapabilities(names);
    if (unknown.length > 0) {
      throw new LaunchError(
        'ERR_LAUNCH_OPTIONS',
        `unknown capability ${unknown.map((u) => JSON.stringify(u)).join(', ')} in ${flag}`,
        {
          hint: 'name Linux capabilities, with or without CAP_ (CAP_NET_ADMIN, sys_ptrace), or ALL',
        },
      );
    }
  }
  // upstream passes these to the runtime, which fails with `writing file cpuset.cpus: Invalid
  // argument` after berth has prepared everything: name the flag and the value up front
  for (const [flag, list] of [
    ['--cpuset-cpus', o.limits?.cpusetCpus],
    ['--cpuset-mems', o.limits?.cpusetMems],
  ] as const) {
    if (list !== undefined && list !== '' && !isCpusetList(list)) {
      throw new LaunchError(
        'ERR_LAUNCH_OPTIONS',
        `${flag} ${JSON.stringify(list)} is not a list of numbers and ranges`,
        { hint: `write numbers and ascending ranges separated by commas: ${flag} 0-2,4` },
      );
    }
  }
  const { unknown } = parseNoMount(o.noMount);
  if (unknown.length > 0) {
    throw new LaunchError(
      'ERR_LAUNCH_OPTIONS',
      `--no-mount ${unknown.map((u) => JSON.stringify(u)).join(', ')} is not a mount berth knows`,
      {
        hint: 'give proc, sys, tmp, home, cwd, bind-paths or an absolute container path',
      },
    );
  }
}

/**
 * Refuses what the chosen runtime cannot do: runc needs /proc in the container (it closes the
 * descriptors it must not pass on through /proc/self/fd), so `--no-mount proc` only works
 * with crun.
 */
export function checkRuntimeOptions(o: ResolvedLaunchOptions, runtime: Runtime): void {
  if (runtime.name === 'runc' && parseNoMount(o.noMount).names.includes('proc')) {
    throw new LaunchError(
      'ERR_LAUNCH_UNSUPPORTED',
      `--no-mount proc is not supported with runc (${runtime.path}): runc needs /proc in the container to close inherited file descriptors`,
      { hint: 'use crun: --runtime crun, or keep /proc mounted' },
    );
  }
}

/**
 * `--dns` (upstream's prepareResolvConf): spaces removed, split on commas, each an IP address;
 * returns the resolv.conf content.
 */
export function resolvConfFromDns(dns: string): string {
  const ips = dns.replace(/\s+/g, '').split(',');
  let out = '';
  for (const ip of ips) {
    if (isIP(ip) === 0) {
      throw new LaunchError(
        'ERR_LAUNCH_OPTIONS',
        `DNS nameserver ${JSON.stringify(ip)} is not a valid IP address`,
        { hint: 'give IP addresses: --dns 1.1.1.1,2606:4700:4700::1111' },
      );
    }
    out += `nameserver ${ip}\n`;
  }
  return out;
}
