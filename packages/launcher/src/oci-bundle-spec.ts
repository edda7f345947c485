/**
 * The runtime spec of an `oci mount` bundle, in the spirit of SingularityCE's default `oci
 * mount` config: the image's command, as its `User` (resolved in the image's /etc/passwd and
 * /etc/group as the image-spec's conversion asks) or else uid 0, the usual mounts and
 * namespaces, and for an ordinary user a user namespace over the namespace holder's map.
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
import { LaunchError } from './errors.js';
import { findPasswdUid, findPasswdUser, readImageFile } from './etc-files.js';
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

/** The container process's identity, from the image's `User`. */
export interface BundleUser {
  uid: number;
  gid: number;
  /** Set only for a user given by name without a group (the conversion rules). */
  additionalGids?: number[];
  /** The user's home from the image's /etc/passwd, when it has an entry. */
  home?: string;
}

/** Largest id the kernel accepts ((uid_t)-1 is "no change"). */
const MAX_ID = 0xffff_fffe;

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parseGroups(group: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of group.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !f[0] || !/^\d+$/.test(f[2] as string)) continue;
    out.push({
      name: f[0],
      gid: Number(f[2]),
      members: (f[3] ?? '')
        .split(',')
        .map((m) => m.trim())
        .filter((m) => m !== ''),
    });
  }
  return out;
}

/**
 * Resolves an image's `Config.User` (`user`, `uid`, `user:group`, `uid:gid`, `user:gid`,
 * `uid:group`) as the image-spec's conversion to a runtime config asks: numeric parts are used
 * verbatim, names are looked up in the image's own /etc/passwd and /etc/group (read with
 * symlinks resolved inside `rootfs`), and a name the image does not define is an error. Without
 * a group, the gid is the passwd entry's (0 for a uid the image does not list); a user given by
 * name without a group also gets the groups /etc/group lists it in.
 */
export async function resolveBundleUser(input: {
  /** `Config.User`, verbatim. */
  user: string;
  /** The unpacked rootfs. */
  rootfs: string;
  /** The image reference, for messages. */
  image: string;
}): Promise<BundleUser> {
  const { user, image } = input;
  const fail = (message: string, hint: string, cause?: unknown) =>
    new LaunchError('ERR_LAUNCH_USER', message, { hint, cause });
  const colon = user.indexOf(':');
  const userPart = colon < 0 ? user : user.slice(0, colon);
  const groupPart = colon < 0 ? undefined : user.slice(colon + 1);
  if (userPart === '' || groupPart === '' || groupPart?.includes(':')) {
    throw fail(
      `image "${image}" has an invalid User "${user}"`,
      'the image config is malformed: User must be user, uid, user:group or uid:gid',
    );
  }
  const read = async (file: string): Promise<string | undefined> =>
    readImageFile(input.rootfs, file).catch((cause) => {
      throw fail(
        `cannot read ${file} of image "${image}" to find its user "${user}": permission denied`,
        'the image keeps its account files from other users; make them readable in the image',
        cause,
      );
    });
  const numeric = (s: string) => /^\d+$/.test(s);
  const checkId = (n: number, what: string) => {
    if (n > MAX_ID)
      throw fail(
        `image "${image}" has User "${user}" with an out-of-range ${what}`,
        'fix User in the image',
      );
    return n;
  };

  const passwd = await read('/etc/passwd');
  let uid: number;
  let entry: ReturnType<typeof findPasswdUid>;
  if (numeric(userPart)) {
    uid = checkId(Number(userPart), 'uid');
    entry = passwd === undefined ? undefined : findPasswdUid(passwd, uid);
  } else {
    entry = passwd === undefined ? undefined : findPasswdUser(passwd, userPart);
    if (entry === undefined) {
      throw fail(
        `image "${image}" runs as user "${userPart}", which is not in the image's /etc/passwd${
          passwd === undefined ? ' (the image has none)' : ''
        }`,
        'the image is broken: add the user to its /etc/passwd, or give a numeric User',
      );
    }
    uid = entry.uid;
  }

  let gid: number;
  let additionalGids: number[] | undefined;
  if (groupPart === undefined) {
    gid = entry?.gid ?? 0;
    if (!numeric(userPart)) {
      const group = await read('/etc/group');
      const gids = new Set<number>();
      for (const g of parseGroups(group ?? ''))
        if (g.members.includes(userPart) && g.gid !== gid) gids.add(g.gid);
      additionalGids = [...gids].sort((a, b) => a - b);
    }
  } else if (numeric(groupPart)) {
    gid = checkId(Number(groupPart), 'gid');
  } else {
    const group = await read('/etc/group');
    const found = parseGroups(group ?? '').find((g) => g.name === groupPart);
    if (found === undefined) {
      throw fail(
        `image "${image}" runs as group "${groupPart}", which is not in the image's /etc/group${
          group === undefined ? ' (the image has none)' : ''
        }`,
        'the image is broken: add the group to its /etc/group, or give a numeric group',
      );
    }
    gid = found.gid;
  }
  const out: BundleUser = { uid, gid };
  if (additionalGids !== undefined && additionalGids.length > 0)
    out.additionalGids = additionalGids;
  if (entry?.home) out.home = entry.home;
  return out;
}

/** The runtime spec of an `oci mount` bundle (SingularityCE's default `oci mount` config, for root or not). */
export function bundleSpec(input: {
  image: ResolvedImage;
  plan: UsernsPlan;
  terminal: boolean;
  /** The image's `User`, resolved (`resolveBundleUser`); uid 0 without. */
  user?: BundleUser;
  /** The image reference, for messages. */
  imageRef?: string;
}): Spec {
  const defaults = imageDefaults(input.image.config);
  const args = [...defaults.entrypoint, ...defaults.cmd];
  const env = [...defaults.env];
  const user: BundleUser = input.user ?? { uid: 0, gid: 0 };
  const home = user.home ?? (user.uid === 0 ? '/root' : '/');
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  if (!env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${home}`);
  const maps = bundleIdMaps(input.plan);
  const rootless = input.plan.kind !== 'root';
  if (rootless) {
    const unmapped = [
      ...(mapsGid(maps.uid, user.uid) ? [] : [`uid ${user.uid}`]),
      ...[user.gid, ...(user.additionalGids ?? [])]
        .filter((g) => !mapsGid(maps.gid, g))
        .map((g) => `gid ${g}`),
    ];
    if (unmapped.length > 0) {
      throw new LaunchError(
        'ERR_LAUNCH_USER',
        `image${input.imageRef ? ` "${input.imageRef}"` : ''} runs as ${unmapped.join(', ')}, which your user namespace does not map`,
        {
          hint: 'give your user enough subordinate ids in /etc/subuid and /etc/subgid (usermod --add-subuids/--add-subgids)',
        },
      );
    }
  }

  const spec = minimalSpec();
  spec.root = { path: 'rootfs', readonly: false };
  spec.hostname = BUNDLE_HOSTNAME;
  spec.process = buildProcess({
    args: args.length > 0 ? args : ['/bin/sh'],
    env,
    cwd: defaults.workingDir || '/',
    uid: user.uid,
    gid: user.gid,
    ...(user.additionalGids && { additionalGids: user.additionalGids }),
    terminal: input.terminal,
    capabilities: capabilitySet({ targetUid: user.uid }),
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
