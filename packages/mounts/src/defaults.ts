import { join, resolve } from 'node:path';
import type { Mount } from '@berth-oci/bundle-spec';
import { parseOptions } from '@berth-oci/errors';
import * as v from 'valibot';
import { MountsError } from './errors.js';
import { cleanContainerPath } from './paths.js';

const IdSchema = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff));

export const DefaultMountsOptionsSchema = v.strictObject({
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
  /** `--allow-setuid`: leave `nosuid` off the home tmpfs, workdir and scratch mounts. */
  allowSetuid: v.optional(v.boolean(), false),
  /** `--home SRC:DST`: bind this host directory at homeDest instead of a tmpfs. */
  homeSource: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** `--no-home`: no home mount at all. */
  noHome: v.optional(v.boolean(), false),
  /** `--workdir`: absolute host directory backing /tmp, /var/tmp (`tmp`, `var_tmp`) and scratch. */
  workdir: v.optional(v.pipe(v.string(), v.startsWith('/', 'workdir must be an absolute path'))),
  /** `--scratch` directories (absolute container paths): tmpfs, or binds from the workdir. */
  scratch: v.optional(v.array(v.string()), []),
  /** `--no-compat`: bind the host /tmp and /var/tmp (the workdir is then not used for them). */
  hostTmp: v.optional(v.boolean(), false),
  /** Bind the whole host /dev (and a new devpts) instead of the minimal /dev. */
  devBind: v.optional(v.boolean(), false),
  /** `--keep-privs`: the cgroup mount is read-write. */
  keepPrivs: v.optional(v.boolean(), false),
  /** Directory a relative homeSource is resolved against; default `process.cwd()`. */
  cwd: v.optional(v.string()),
});
export type DefaultMountsOptions = v.InferInput<typeof DefaultMountsOptionsSchema>;

const mount = (destination: string, type: string, source: string, options: string[]): Mount => ({
  destination,
  type,
  source,
  options,
});

/**
 * The default mounts of OCI-mode (docs/singularity-compat.md, "Mounts", steps 1–6), in order: /proc, /sys
 * (and /sys/fs/cgroup), /dev, /dev/shm, /dev/mqueue, /dev/pts (or the host /dev and a
 * devpts), /tmp and /var/tmp (tmpfs, workdir or host binds), the home (tmpfs or bind) and the
 * scratch directories. `--no-mount dev` or `devpts` throws `ERR_MOUNTS_NO_MOUNT_REQUIRED`.
 */
export function defaultMounts(options: DefaultMountsOptions): Mount[] {
  const o = parseOptions(DefaultMountsOptionsSchema, options, 'defaultMounts options', MountsError);
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
  // plain binds (home, host /tmp), as upstream's addBindMount
  const bindOptions = o.allowSetuid ? ['rbind', 'nodev'] : ['rbind', 'nodev', 'nosuid'];
  const mounts: Mount[] = [];

  // 1. /proc: a new procfs, or with --no-pid a bind of the host's
  if (!skip.has('proc')) {
    mounts.push(
      o.noPid
        ? mount('/proc', 'none', '/proc', ['rbind', 'nodev', 'nosuid', 'noexec'])
        : mount('/proc', 'proc', 'proc', ['nosuid', 'noexec', 'nodev']),
    );
  }

  // 2. /sys (a new sysfs as host root, else a read-only bind), and the cgroup filesystem below it
  if (!skip.has('sys')) {
    mounts.push(
      o.hostRoot
        ? mount('/sys', 'sysfs', 'sysfs', ['nosuid', 'noexec', 'nodev', 'ro'])
        : mount('/sys', 'none', '/sys', ['rbind', 'nosuid', 'noexec', 'nodev', 'ro']),
    );
    if (o.cgroupNamespace) {
      const access = o.keepPrivs ? 'rw' : 'ro';
      mounts.push(
        mount('/sys/fs/cgroup', 'cgroup', 'cgroup', ['nosuid', 'noexec', 'nodev', access]),
      );
    }
  }

  // 3. /dev: a minimal one (the runtime adds its default device nodes), or the host's
  const devpts = ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'];
  if (o.hostRoot && o.ttyGid !== undefined) devpts.push(`gid=${o.ttyGid}`);
  if (o.devBind) {
    mounts.push(mount('/dev', 'bind', '/dev', ['nosuid', 'rprivate', 'rbind', 'rw']));
  } else {
    mounts.push(
      mount('/dev', 'tmpfs', 'tmpfs', ['nosuid', 'strictatime', 'mode=755', size]),
      mount('/dev/shm', 'tmpfs', 'shm', ['nosuid', 'noexec', 'nodev', 'mode=1777', size]),
      mount('/dev/mqueue', 'mqueue', 'mqueue', ['nosuid', 'noexec', 'nodev']),
    );
  }
  mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: devpts });

  // 4. /tmp and /var/tmp: the host's (--no-compat), the workdir's, or tmpfs (mode=777 without
  // the sticky bit, as upstream)
  if (!skip.has('tmp')) {
    for (const [destination, sub] of [
      ['/tmp', 'tmp'],
      ['/var/tmp', 'var_tmp'],
    ] as const) {
      if (o.hostTmp) {
        mounts.push({ destination, type: 'none', source: destination, options: bindOptions });
      } else if (o.workdir !== undefined) {
        mounts.push({
          destination,
          type: 'none',
          source: join(o.workdir, sub),
          options: o.allowSetuid ? ['rbind'] : ['rbind', 'nosuid'],
        });
      } else {
        mounts.push({
          destination,
          type: 'tmpfs',
          source: 'tmpfs',
          options: ['nosuid', 'relatime', 'mode=777', size],
        });
      }
    }
  }

  // 5. $HOME: a bind of homeSource, or a tmpfs
  if (!skip.has('home') && !o.noHome) {
    const destination = cleanContainerPath(o.homeDest) as string;
    if (o.homeSource !== undefined) {
      mounts.push({
        destination,
        type: 'none',
        source: resolve(o.cwd ?? process.cwd(), o.homeSource),
        options: bindOptions,
      });
    } else {
      const home = ['relatime', 'mode=755', size];
      if (!o.allowSetuid) home.push('nosuid');
      if (o.homeUid !== undefined) home.push(`uid=${o.homeUid}`);
      if (o.homeGid !== undefined) home.push(`gid=${o.homeGid}`);
      mounts.push({ destination, type: 'tmpfs', source: 'tmpfs', options: home });
    }
  }

  // 6. scratch directories: binds from <workdir>/scratch, or tmpfs
  for (const dir of o.scratch) {
    const destination = cleanContainerPath(dir);
    if (destination === undefined || destination === '/') {
      throw new MountsError(
        'ERR_MOUNTS_SCRATCH',
        `scratch directory ${JSON.stringify(dir)} must be an absolute path below /`,
        { hint: 'use --scratch /scratch' },
      );
    }
    if (o.workdir !== undefined) {
      mounts.push({
        destination,
        type: 'none',
        source: join(o.workdir, 'scratch', destination),
        options: o.allowSetuid ? ['rbind', 'nodev'] : ['rbind', 'nodev', 'nosuid'],
      });
    } else {
      const opts = ['relatime', 'nodev', size];
      if (!o.allowSetuid) opts.push('nosuid');
      mounts.push({ destination, type: 'tmpfs', source: 'tmpfs', options: opts });
    }
  }
  return mounts;
}
