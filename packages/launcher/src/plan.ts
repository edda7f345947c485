/**
 * The pure part of a launch: what the options mean, checked against the probed host, before
 * any image is opened. Nothing here touches the filesystem or the process; messages for the
 * user are returned, in the order they are to be shown.
 */
import {
  type BindSpec,
  type HomeSpec,
  parseBindSpecs,
  parseHomeSpec,
  parseMountSpecs,
  parseNoMount,
  parseScratchDirs,
} from '@berth-oci/mounts';
import type { Runtime } from '@berth-oci/runtime-ops';
import { checkCgroupSupport } from './cgroups.js';
import { resolvConfFromDns } from './check-options.js';
import { LaunchError } from './errors.js';
import { NO_COMPAT_BIND_PATHS } from './host.js';
import type { ResolvedLaunchOptions } from './options.js';
import { DEFAULT_SITE_CONFIG, type SiteConfig, siteSetting } from './site-config.js';

/** A message for the user: a warning (`onWarning`) or information (`onInfo`). */
export interface Note {
  level: 'warning' | 'info';
  message: string;
}

/** What the mount and /etc options ask for, parsed. */
export interface OptionPlan {
  /** resolv.conf content from `--dns`. */
  resolvConf: string | undefined;
  /** `--no-mount` names (default mounts left out, and honoured /PATHs). */
  skip: Set<string>;
  customHome: HomeSpec | undefined;
  scratch: string[];
  /** The site's `bind path` entries (less those `--no-mount` leaves out), `--bind`, `--mount`. */
  userBinds: BindSpec[];
  /** Whether /etc/passwd and /etc/group are generated (the site's `config passwd`/`group`). */
  etcPasswd: boolean;
  etcGroup: boolean;
  /** The site's `mount dev = minimal`: a minimal /dev even with `--no-compat`. */
  minimalDev: boolean;
  notes: Note[];
}

/**
 * Parses the options that need no image and no host, so that mistakes fail fast, and applies
 * the site configuration: its refusals (`mount dev = no`, `mount devpts = no`, user binds under
 * `user bind control = no`), the default mounts it leaves out, and its binds.
 */
export function planOptions(
  opts: ResolvedLaunchOptions,
  cwd: string,
  site: SiteConfig = DEFAULT_SITE_CONFIG,
): OptionPlan {
  checkSite(opts, site);
  const notes: Note[] = [];
  const warn = (message: string) => notes.push({ level: 'warning', message });
  const resolvConf =
    opts.dns !== undefined && opts.dns !== '' ? resolvConfFromDns(opts.dns) : undefined;
  const noMount = parseNoMount(opts.noMount);
  for (const u of noMount.unknown) warn(`--no-mount ${u} is not a mount berth knows, ignoring it`);
  const siteBinds = parseBindSpecs(site.bindPaths);
  const honouredPaths = [
    '/etc/resolv.conf',
    ...(opts.noCompat ? NO_COMPAT_BIND_PATHS : []),
    ...siteBinds.map((b) => b.destination),
  ];
  for (const n of noMount.names) {
    if (n.startsWith('/') && !honouredPaths.includes(n))
      warn(`--no-mount ${n} is not supported in OCI mode, ignoring it`);
    if (n === 'cwd' && !opts.noCompat) warn('--no-mount cwd has an effect only with --no-compat');
  }
  const skip = new Set(noMount.names);
  const siteSkips: [boolean, string][] = [
    [site.mountHome, 'home'],
    [site.mountTmp, 'tmp'],
    [site.mountProc, 'proc'],
    [site.mountSys, 'sys'],
    [site.configResolvConf, '/etc/resolv.conf'],
  ];
  for (const [on, name] of siteSkips) if (!on) skip.add(name);
  const customHome = opts.home !== undefined ? parseHomeSpec(opts.home, cwd) : undefined;
  if (!site.userBindControl && customHome?.source !== undefined)
    throw userBindsRefused(site, `--home ${opts.home}`);
  return {
    resolvConf,
    skip,
    customHome,
    scratch: parseScratchDirs(opts.scratch),
    userBinds: [
      ...(skip.has('bind-paths') ? [] : siteBinds.filter((b) => !skip.has(b.destination))),
      ...parseBindSpecs(opts.binds),
      ...parseMountSpecs(opts.mounts),
    ],
    etcPasswd: site.configPasswd,
    etcGroup: site.configGroup,
    minimalDev: site.mountDev === 'minimal',
    notes,
  };
}

const userBindsRefused = (site: SiteConfig, what: string) =>
  new LaunchError(
    'ERR_LAUNCH_SITE_CONFIG',
    `user binds are disabled by ${siteSetting(site, 'userBindControl', 'no')}: ${what} is refused`,
    {
      hint: 'drop --bind, --mount and --home SRC:DST (and their BERTH_/SINGULARITY_ variables); the site decides what is bound',
    },
  );

/** The site configuration's refusals, as upstream's OCI mode refuses them. */
function checkSite(opts: ResolvedLaunchOptions, site: SiteConfig): void {
  for (const [key, what] of [
    ['mountDev', '/dev'],
    ['mountDevpts', '/dev/pts'],
  ] as const) {
    if (site[key] === false || site[key] === 'no')
      throw new LaunchError(
        'ERR_LAUNCH_SITE_CONFIG',
        `a container needs ${what} mounted, but ${siteSetting(site, key, 'no')}`,
        { hint: `the site's administrators must remove that line (or set it to yes)` },
      );
  }
  if (!site.userBindControl) {
    const given = [
      ...opts.binds.map((b) => `--bind ${b}`),
      ...opts.mounts.map((m) => `--mount ${m}`),
    ];
    if (given.length > 0) throw userBindsRefused(site, given.join(', '));
  }
}

/**
 * Checks the options against the host (cgroup limits need root and cgroups, `--no-setgroups`
 * needs crun) and returns the informational notes on redundant flags.
 */
export function planHost(
  opts: ResolvedLaunchOptions,
  host: { uid: number; layout: string; runtime: Runtime; limited: boolean },
  site: SiteConfig = DEFAULT_SITE_CONFIG,
): Note[] {
  if (host.limited) checkCgroupSupport({ uid: host.uid, layout: host.layout });
  if (!site.mountProc && host.runtime.name === 'runc')
    throw new LaunchError(
      'ERR_LAUNCH_SITE_CONFIG',
      `runtime runc (${host.runtime.path}) needs /proc in the container, but ${siteSetting(site, 'mountProc', 'no')}`,
      { hint: 'use crun: --runtime crun (or the administrators set mount proc = yes)' },
    );
  if (opts.noSetgroups && host.runtime.name !== 'crun') {
    throw new LaunchError(
      'ERR_LAUNCH_SETGROUPS',
      `runtime "${host.runtime.name}" (${host.runtime.path}) does not support --no-setgroups`,
      { hint: 'use crun: --runtime crun' },
    );
  }
  const notes: Note[] = [];
  const info = (message: string) => notes.push({ level: 'info', message });
  if (opts.ipc) info('berth always uses an IPC namespace, --ipc is redundant');
  if (opts.pid) info('berth uses a PID namespace by default, --pid is redundant');
  if (opts.userns && host.uid !== 0)
    info('berth always creates a user namespace when run as non-root, --userns is redundant');
  return notes;
}

/** Notes on what the image's config asks for that berth does not give. */
export function imageNotes(config: Record<string, unknown>, net: boolean): Note[] {
  const notes: Note[] = [];
  if (config.Volumes && Object.keys(config.Volumes as object).length > 0)
    notes.push({
      level: 'warning',
      message:
        'the image specifies volume mounts, which berth does not create; it may not work as expected',
    });
  if (config.ExposedPorts && Object.keys(config.ExposedPorts as object).length > 0 && !net)
    notes.push({
      level: 'info',
      message:
        'the image specifies exposed ports; without --net, berth uses the host network and all ports are exposed subject to host firewall rules',
    });
  return notes;
}

const isRootUser = (u: string | undefined) => u !== undefined && /^(0|root)(:.*)?$/.test(u);

/**
 * Whether the launch maps the user to root: `--fakeroot`, or an ordinary user running an image
 * whose USER is root (the container then runs as the user mapped to 0).
 */
export function wantsRoot(
  opts: ResolvedLaunchOptions,
  uid: number,
  imageUser: string | undefined,
): boolean {
  return opts.fakeroot || (uid !== 0 && isRootUser(imageUser));
}
