import type { Mount } from '@berth/bundle-spec';
import { parseOptions } from '@berth/errors';
import * as v from 'valibot';
import { MountsError } from './errors.js';
import { cleanContainerPath } from './paths.js';

const IdSchema = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff));

export const DefaultMountsOptionsSchema = v.object({
  /** berth runs as host root: real sysfs, devpts `gid=<tty>`. */
  hostRoot: v.boolean(),
  /** Where the home tmpfs goes (the container's $HOME); absolute. */
  homeDest: v.pipe(
    v.string(),
    v.minLength(1, 'cannot add home mount with empty destination'),
    v.check((p) => cleanContainerPath(p) !== undefined, 'homeDest must be an absolute path'),
  ),
  /** Owner of the home tmpfs; give both ids except under --fakeroot. */
  homeUid: v.optional(IdSchema),
  homeGid: v.optional(IdSchema),
  /** `--no-pid`: bind the host /proc instead of a new procfs. */
  noPid: v.optional(v.boolean(), false),
  /** Size of each tmpfs in MiB (`sessiondir max size`). */
  sessionSizeMiB: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 64),
  /** The host's `tty` group, added to devpts as `gid=` when hostRoot. */
  ttyGid: v.optional(IdSchema),
  /** `--no-mount` values; proc, sys, tmp and home skip those mounts, others are ignored here. */
  noMount: v.optional(v.array(v.string()), []),
  /** Add the cgroup mount at /sys/fs/cgroup (cgroups v2 with a cgroup namespace). */
  cgroupNamespace: v.optional(v.boolean(), false),
  /** `--allow-setuid`: leave `nosuid` off the home tmpfs. */
  allowSetuid: v.optional(v.boolean(), false),
});
export type DefaultMountsOptions = v.InferInput<typeof DefaultMountsOptionsSchema>;

/**
 * The default mounts of OCI-mode (reference B.5.3 steps 1–5), in order: /proc, /sys
 * (and /sys/fs/cgroup), /dev, /dev/shm, /dev/mqueue, /dev/pts, /tmp, /var/tmp, and a home
 * tmpfs. `--no-mount dev` or `devpts` throws `ERR_MOUNTS_NO_MOUNT_REQUIRED`.
 */
export function defaultMounts(options: DefaultMountsOptions): Mount[] {
  const o = parseOptions(DefaultMountsOptionsSchema, options, 'defaultMounts options');
  const skip = new Set(o.noMount.map((n) => n.trim()));
  for (const required of ['dev', 'devpts']) {
    if (skip.has(required)) {
      const path = required === 'dev' ? '/dev' : '/dev/pts';
      throw new MountsError(
        'ERR_MOUNTS_NO_MOUNT_REQUIRED',
        `oci mode requires ${path} to be mounted, but '--no-mount ${required}' was requested`,
        { hint: `remove '${required}' from --no-mount` },
      );
    }
  }
  const size = `size=${o.sessionSizeMiB}m`;
  const mounts: Mount[] = [];

  // 1. /proc
  if (!skip.has('proc')) {
    mounts.push(
      o.noPid
        ? {
            destination: '/proc',
            type: 'none',
            source: '/proc',
            options: ['rbind', 'nodev', 'nosuid', 'noexec'],
          }
        : {
            destination: '/proc',
            type: 'proc',
            source: 'proc',
            options: ['nosuid', 'noexec', 'nodev'],
          },
    );
  }

  // 2. /sys, and the cgroup filesystem below it
  if (!skip.has('sys')) {
    mounts.push(
      o.hostRoot
        ? {
            destination: '/sys',
            type: 'sysfs',
            source: 'sysfs',
            options: ['nosuid', 'noexec', 'nodev', 'ro'],
          }
        : {
            destination: '/sys',
            type: 'none',
            source: '/sys',
            options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
          },
    );
    if (o.cgroupNamespace) {
      mounts.push({
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'ro'],
      });
    }
  }

  // 3. a minimal /dev; the runtime adds its default device nodes
  const devpts = ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'];
  if (o.hostRoot && o.ttyGid !== undefined) devpts.push(`gid=${o.ttyGid}`);
  mounts.push(
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', size],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', size],
    },
    {
      destination: '/dev/mqueue',
      type: 'mqueue',
      source: 'mqueue',
      options: ['nosuid', 'noexec', 'nodev'],
    },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: devpts },
  );

  // 4. /tmp and /var/tmp (mode=777 without the sticky bit, as upstream)
  if (!skip.has('tmp')) {
    for (const destination of ['/tmp', '/var/tmp']) {
      mounts.push({
        destination,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'relatime', 'mode=777', size],
      });
    }
  }

  // 5. $HOME
  if (!skip.has('home')) {
    const home = ['relatime', 'mode=755', size];
    if (!o.allowSetuid) home.push('nosuid');
    if (o.homeUid !== undefined) home.push(`uid=${o.homeUid}`);
    if (o.homeGid !== undefined) home.push(`gid=${o.homeGid}`);
    mounts.push({
      destination: cleanContainerPath(o.homeDest) as string,
      type: 'tmpfs',
      source: 'tmpfs',
      options: home,
    });
  }
  return mounts;
}
