import { isIP } from 'node:net';
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

/**
 * Refuses what upstream refuses before doing any work: `--compat` with `--no-compat`, the
 * options of `unsupportedOptions` (`not supported by OCI launcher: A,B`), and `--writable`.
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
