/**
 * The facts about this host a launch depends on, probed once: who runs berth, where, the
 * cgroup layout, the runtime, and what the spec copies from the host (terminal, umask, tty
 * group, capabilities, resolv.conf, passwd). The plan and the spec are computed from these.
 */
import { readFile, stat } from 'node:fs/promises';
import { type CgroupLayout, cgroupLayout, findRuntime, type Runtime } from '@berth-oci/runtime-ops';
import { type HostUser, hostUser } from './identity.js';
import { effectiveCapabilities } from './image-path.js';
import { isTerminal, type Stdio, terminalSize } from './io-options.js';

/** Host files `--no-compat` binds (upstream's default `bind path` entries). */
export const NO_COMPAT_BIND_PATHS = ['/etc/localtime', '/etc/hosts'];

/** What a launch needs to know about the host before it plans. */
export interface HostFacts {
  user: HostUser;
  /** The working directory relative paths are resolved against. */
  cwd: string;
  /** The environment the launch reads (`hostEnv`, else process.env). */
  env: Record<string, string | undefined>;
  layout: CgroupLayout;
  runtime: Runtime;
}

/** Probes the user, the cgroup layout and the runtime (`runtime`: a name or path, else found). */
export async function probeHost(o: {
  runtime: string | undefined;
  env: Record<string, string | undefined>;
  cwd: string;
}): Promise<HostFacts> {
  const user = await hostUser();
  const layout = await cgroupLayout();
  const runtime = await findRuntime({ runtime: o.runtime, env: o.env });
  return { user, cwd: o.cwd, env: o.env, layout, runtime };
}

/** What the spec copies from the host. */
export interface SpecHostFacts {
  /** Whether the container's stdin is a terminal (the default of `terminal`). */
  stdinIsTerminal: boolean;
  /** The caller's terminal size, for a container terminal. */
  terminalSize: { height: number; width: number } | undefined;
  umask: number;
  /** The host's `tty` group, as root (devpts mounts are given it). */
  ttyGid: number | undefined;
  /** The effective capabilities of this process (`--keep-privs` as root). */
  capabilities: string[];
  /** The host's /etc/resolv.conf (undefined when unreadable). */
  resolvConf: Buffer | undefined;
  /** The host's /etc/passwd ('' when unreadable). */
  passwd: string;
  /** Which of NO_COMPAT_BIND_PATHS exist. */
  compatPaths: string[];
}

/** Probes what the spec copies from the host; `stdio` says where the container's streams go. */
export async function probeSpecHost(
  user: HostUser,
  stdio: Stdio | undefined,
): Promise<SpecHostFacts> {
  const root = user.uid === 0;
  const [ttyGid, capabilities, resolvConf, passwd, exists] = await Promise.all([
    root ? ttyGidOf() : undefined,
    root ? effectiveCapabilities() : [],
    readFile('/etc/resolv.conf').catch(() => undefined),
    readFile('/etc/passwd', 'utf8').catch(() => ''),
    Promise.all(
      NO_COMPAT_BIND_PATHS.map((p) =>
        stat(p).then(
          () => true,
          () => false,
        ),
      ),
    ),
  ]);
  return {
    stdinIsTerminal: isTerminal(stdio, 0),
    terminalSize: terminalSize(stdio),
    umask: currentUmask(),
    ttyGid,
    capabilities,
    resolvConf,
    passwd,
    compatPaths: NO_COMPAT_BIND_PATHS.filter((_, i) => exists[i]),
  };
}

function currentUmask(): number {
  const mask = process.umask(0o022);
  process.umask(mask);
  return mask;
}

async function ttyGidOf(): Promise<number | undefined> {
  try {
    const groups = await readFile('/etc/group', 'utf8');
    const line = groups.split('\n').find((l) => l.startsWith('tty:'));
    const gid = Number(line?.split(':')[2]);
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}
