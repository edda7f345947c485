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
  /** `--bind` and `--mount`, in that order. */
  userBinds: BindSpec[];
  notes: Note[];
}

/** Parses the options that need no image and no host, so that mistakes fail fast. */
export function planOptions(opts: ResolvedLaunchOptions, cwd: string): OptionPlan {
  const notes: Note[] = [];
  const warn = (message: string) => notes.push({ level: 'warning', message });
  const resolvConf =
    opts.dns !== undefined && opts.dns !== '' ? resolvConfFromDns(opts.dns) : undefined;
  const noMount = parseNoMount(opts.noMount);
  for (const u of noMount.unknown) warn(`--no-mount ${u} is not a mount berth knows, ignoring it`);
  const honouredPaths = ['/etc/resolv.conf', ...(opts.noCompat ? NO_COMPAT_BIND_PATHS : [])];
  for (const n of noMount.names) {
    if (n.startsWith('/') && !honouredPaths.includes(n))
      warn(`--no-mount ${n} is not supported in OCI mode, ignoring it`);
    if (n === 'cwd' && !opts.noCompat) warn('--no-mount cwd has an effect only with --no-compat');
  }
  return {
    resolvConf,
    skip: new Set(noMount.names),
    customHome: opts.home !== undefined ? parseHomeSpec(opts.home, cwd) : undefined,
    scratch: parseScratchDirs(opts.scratch),
    userBinds: [...parseBindSpecs(opts.binds), ...parseMountSpecs(opts.mounts)],
    notes,
  };
}

/**
 * Checks the options against the host (cgroup limits need root and cgroups, `--no-setgroups`
 * needs crun) and returns the informational notes on redundant flags.
 */
export function planHost(
  opts: ResolvedLaunchOptions,
  host: { uid: number; layout: string; runtime: Runtime; limited: boolean },
): Note[] {
  if (host.limited) checkCgroupSupport({ uid: host.uid, layout: host.layout });
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
