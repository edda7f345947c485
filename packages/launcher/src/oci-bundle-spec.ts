/**
 * The runtime spec of an `oci mount` bundle, in the spirit of SingularityCE's default `oci
 * mount` config: the image's command as uid 0, the usual mounts and namespaces, and for an
 * ordinary user a user namespace over the namespace holder's map.
 */
import {
  buildProcess,
  capabilitySet,
  type Mount,
  minimalSpec,
  type Spec,
} from '@berth-oci/bundle-spec';
import type { IdMapping } from '@berth-oci/idmap';
import { imageDefaults, type ResolvedImage } from '@berth-oci/image-extract';
import type { UsernsPlan } from './identity.js';

/** The hostname of containers of `oci mount` bundles (SingularityCE writes `singularity`). */
export const BUNDLE_HOSTNAME = 'berth';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The id maps of an `oci mount` container, seen from the namespace holder (whose map is the
 * plan's outer map): an identity over each outer extent — one extent per outer extent, since the
 * kernel wants each extent to fall inside one extent of the parent namespace. Empty for root.
 */
export function bundleIdMaps(plan: UsernsPlan): { uid: IdMapping[]; gid: IdMapping[] } {
  const identity = (maps: IdMapping[]) =>
    [...maps]
      .sort((a, b) => a.containerID - b.containerID)
      .map((m) => ({ containerID: m.containerID, hostID: m.containerID, size: m.size }));
  return { uid: identity(plan.outerUid), gid: identity(plan.outerGid) };
}

const mapsGid = (maps: IdMapping[], gid: number) =>
  maps.some((m) => gid >= m.containerID && gid < m.containerID + m.size);

/** The runtime spec of an `oci mount` bundle (SingularityCE's default `oci mount` config, for root or not). */
export function bundleSpec(input: {
  image: ResolvedImage;
  plan: UsernsPlan;
  terminal: boolean;
}): Spec {
  const defaults = imageDefaults(input.image.config);
  const args = [...defaults.entrypoint, ...defaults.cmd];
  const env = [...defaults.env];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  if (!env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  if (!env.some((e) => e.startsWith('HOME='))) env.push('HOME=/root');
  const maps = bundleIdMaps(input.plan);
  const rootless = input.plan.kind !== 'root';

  const spec = minimalSpec();
  spec.root = { path: 'rootfs', readonly: false };
  spec.hostname = BUNDLE_HOSTNAME;
  spec.process = buildProcess({
    args: args.length > 0 ? args : ['/bin/sh'],
    env,
    cwd: defaults.workingDir || '/',
    uid: 0,
    gid: 0,
    terminal: input.terminal,
    capabilities: capabilitySet({ targetUid: 0 }),
  });
  spec.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }];
  const devpts = ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'];
  if (!rootless || mapsGid(maps.gid, 5)) devpts.push('gid=5');
  const mounts: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: devpts },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
    {
      destination: '/dev/mqueue',
      type: 'mqueue',
      source: 'mqueue',
      options: ['nosuid', 'noexec', 'nodev'],
    },
    {
      destination: '/sys',
      type: 'sysfs',
      source: 'sysfs',
      options: ['nosuid', 'noexec', 'nodev', 'ro'],
    },
  ];
  spec.mounts = mounts;
  const linux = spec.linux ?? {};
  linux.namespaces = [
    { type: 'pid' },
    { type: 'network' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
  ];
  if (rootless) {
    linux.namespaces.push({ type: 'user' });
    linux.uidMappings = maps.uid.map((m) => ({ ...m }));
    linux.gidMappings = maps.gid.map((m) => ({ ...m }));
  }
  linux.maskedPaths = [
    '/proc/acpi',
    '/proc/asound',
    '/proc/kcore',
    '/proc/keys',
    '/proc/latency_stats',
    '/proc/timer_list',
    '/proc/timer_stats',
    '/proc/sched_debug',
    '/sys/firmware',
    '/proc/scsi',
  ];
  linux.readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
  linux.resources = linux.resources ?? {};
  spec.linux = linux;
  if (Object.keys(defaults.labels).length > 0) spec.annotations = { ...defaults.labels };
  return spec;
}
