import { isIP } from 'node:net';
import { LaunchError } from './errors.js';
import type { ResolvedLaunchOptions } from './options.js';

/**
 * The options upstream's OCI launcher refuses (its `checkOpts`), by upstream's names and in its
 * order, each with the berth flag that sets it. `--compat` implies NoInit and ContainAll.
 */
export function unsupportedOptions(o: ResolvedLaunchOptions): { name: string; flag: string }[] {
  const bad: { name: string; flag: string }[] = [];
  const add = (when: boolean, name: string, flag: string) => {
    if (when) bad.push({ name, flag });
  };
  add(o.fusemount.length > 0, 'FuseMount', '--fusemount');
  add(o.nvccli, 'NvCCLI', '--nvccli');
  add(o.net && o.network !== 'none', 'Network (except none)', `--network ${o.network}`);
  add(o.networkArgs.length > 0, 'NetworkArgs', '--network-args');
  add(o.netnsPath !== undefined && o.netnsPath !== '', 'NetnsPath', '--netns-path');
  add(o.security.length > 0, 'SecurityOpts', '--security');
  add(o.shell !== undefined && o.shell !== '', 'ShellPath', '--shell');
  add(o.boot, 'Boot', '--boot');
  add(o.noInit || o.compat, 'NoInit', o.compat ? '--compat' : '--no-init');
  add(o.contain, 'Contain', '--contain');
  add(o.containAll || o.compat, 'ContainAll', o.compat ? '--compat' : '--containall');
  add(o.keyInfo, 'KeyInfo', '--pem-path/--passphrase');
  add(o.sifFuse, 'SIFFUSE', '--sif-fuse');
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
