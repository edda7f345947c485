import { lstat, readFile } from 'node:fs/promises';
import os from 'node:os';
import { type LinuxResources, LinuxResourcesSchema } from '@berth-oci/bundle-spec';
import * as v from 'valibot';
import { LaunchError } from './errors.js';
import { isPermissionError, readFailure } from './fs-errors.js';
import type { CgroupLimits } from './options.js';

const bad = (message: string, hint: string) =>
  new LaunchError('ERR_LAUNCH_CGROUPS', message, { hint });

/**
 * A size in bytes from docker units, as upstream's `units.RAMInBytes`: a number optionally
 * followed by k, m, g, t or p (binary multiples; `b`/`ib` suffixes allowed, any case).
 */
export function parseSize(value: string | number, what: string): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value;
    throw bad(
      `invalid ${what} value: ${value}`,
      'give a whole number of bytes or a size like 512M',
    );
  }
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(value.trim());
  if (!m) {
    throw bad(
      `invalid ${what} value: ${JSON.stringify(value)}`,
      'give a size like 536870912, 512M or 2g',
    );
  }
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[
    (m[2] ?? '').toLowerCase() as 'k'
  ];
  return Math.floor(Number(m[1]) * mult);
}

/** The major and minor numbers of a device number (glibc's gnu_dev_major/minor). */
export function deviceNumbers(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return {
    major: ((lo >>> 8) & 0xfff) | (hi & ~0xfff),
    minor: (lo & 0xff) | ((lo >>> 12) & ~0xff),
  };
}

async function deviceOf(path: string): Promise<{ major: number; minor: number }> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (cause) {
    throw new LaunchError(
      'ERR_LAUNCH_CGROUPS',
      `while examining device "${path}": ${(cause as Error).message}`,
      {
        hint: 'give a device path such as /dev/sda',
        cause,
      },
    );
  }
  if (!st.isBlockDevice() && !st.isCharacterDevice() && !st.isFIFO())
    throw bad(`"${path}" is not a device`, 'give a device path such as /dev/sda');
  return deviceNumbers(Number(st.rdev));
}

/**
 * linux.resources from the limit flags, as upstream's `getFlagLimits` (docs/singularity-compat.md); undefined
 * when no flag sets a limit. Throws `ERR_LAUNCH_CGROUPS` for values out of range.
 */
export async function limitsToResources(
  limits: CgroupLimits,
  cpuCount: number = os.availableParallelism(),
): Promise<LinuxResources | undefined> {
  const r: LinuxResources = {};
  // block IO
  const blockIO: NonNullable<LinuxResources['blockIO']> = {};
  if (limits.blkioWeight !== undefined && limits.blkioWeight > 0) {
    if (limits.blkioWeight < 10 || limits.blkioWeight > 1000)
      throw bad('blkio-weight must be in range 10-1000', 'give --blkio-weight 10..1000');
    blockIO.weight = limits.blkioWeight;
  }
  for (const spec of limits.blkioWeightDevice ?? []) {
    const i = spec.lastIndexOf(':');
    if (i <= 0)
      throw bad(
        'blkio-weight-device specifications must be in <device>:<weight> format',
        'use --blkio-weight-device /dev/sda:500',
      );
    const { major, minor } = await deviceOf(spec.slice(0, i));
    const weight = Number(spec.slice(i + 1));
    if (!Number.isInteger(weight))
      throw bad(`${spec.slice(i + 1)} is not a valid device weight`, 'give a weight of 10..1000');
    if (weight < 10 || weight > 1000)
      throw bad('blkio-device-weight must be in range 10-1000', 'give a weight of 10..1000');
    blockIO.weightDevice = [...(blockIO.weightDevice ?? []), { major, minor, weight }];
  }
  if (Object.keys(blockIO).length > 0) r.blockIO = blockIO;

  // CPU
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (limits.cpuShares !== undefined) {
    const n = limits.cpuShares;
    if (n < -1 || n > 262144)
      throw bad('cpu-shares must be in range 2-262144', 'give --cpu-shares 2..262144 (-1: unset)');
    // the kernel's cgroup v1 minimum is 2; runtimes map shares onto cgroup v2's cpu.weight
    if (n > 0) cpu.shares = Math.max(n, 2);
  }
  if (limits.cpusetCpus) cpu.cpus = limits.cpusetCpus;
  if (limits.cpusetMems) cpu.mems = limits.cpusetMems;
  if (limits.cpus !== undefined) {
    const text = String(limits.cpus).trim();
    const n = /^\d*\.?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (Number.isNaN(n))
      throw bad(`invalid cpus value: ${JSON.stringify(text)}`, 'give a number such as 1.5');
    if (n < 0.01 || n > cpuCount)
      throw bad(`cpus value must be in range 0.01 - ${cpuCount}`, `this host has ${cpuCount} CPUs`);
    const period = 100_000;
    cpu.period = period;
    cpu.quota = Math.floor((Math.round(n * 1e9) * period) / 1e9);
  }
  if (Object.keys(cpu).length > 0) r.cpu = cpu;

  // memory
  const memory: NonNullable<LinuxResources['memory']> = {};
  if (limits.memory !== undefined) memory.limit = parseSize(limits.memory, 'memory');
  if (limits.memoryReservation !== undefined)
    memory.reservation = parseSize(limits.memoryReservation, 'memory-reservation');
  if (limits.memorySwap !== undefined) {
    memory.swap =
      String(limits.memorySwap).trim() === '-1' ? -1 : parseSize(limits.memorySwap, 'memory-swap');
  }
  if (limits.oomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length > 0) r.memory = memory;

  // pids
  if (limits.pidsLimit !== undefined) {
    if (limits.pidsLimit < -1)
      throw bad(
        `invalid pids-limit: ${limits.pidsLimit}`,
        'give -1 (unlimited) or a positive number',
      );
    if (limits.pidsLimit !== 0) r.pids = { limit: limits.pidsLimit };
  }
  return Object.keys(r).length > 0 ? r : undefined;
}

/**
 * linux.resources from an `--apply-cgroups` TOML file: upstream's format, which uses the keys
 * of the runtime-spec's LinuxResources (`[memory] limit = 1073741824`, `[pids] limit = 64`,
 * `[[devices]] allow = false access = "rwm"`).
 */
export async function loadCgroupsToml(file: string): Promise<LinuxResources> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new LaunchError(
      'ERR_LAUNCH_CGROUPS',
      `cannot read cgroups file "${file}": ${readFailure(cause)}`,
      {
        hint: isPermissionError(cause)
          ? 'give a file you may read, or fix its permissions'
          : 'check the path given to --apply-cgroups',
        cause,
      },
    );
  }
  const mod = (await import('smol-toml')) as typeof import('smol-toml') & {
    default?: typeof import('smol-toml');
  };
  const { parse } = mod.default ?? mod;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (cause) {
    throw new LaunchError(
      'ERR_LAUNCH_CGROUPS',
      `cgroups file "${file}" is not valid TOML: ${(cause as Error).message.split('\n')[0]}`,
      { hint: 'see the --apply-cgroups help for the format', cause },
    );
  }
  const plain = JSON.parse(
    JSON.stringify(doc, (_k, val) => (typeof val === 'bigint' ? Number(val) : val)),
  );
  const result = v.safeParse(LinuxResourcesSchema, plain);
  if (!result.success) {
    throw new LaunchError(
      'ERR_LAUNCH_CGROUPS',
      `cgroups file "${file}" has invalid limits: ${v.summarize(result.issues)}`,
      { hint: 'keys are those of the OCI LinuxResources: [memory] limit = 1073741824' },
    );
  }
  return result.output;
}

/** The limits of a launch: the flags or the TOML file (never both). */
export async function cgroupResources(options: {
  limits?: CgroupLimits;
  applyCgroups?: string;
}): Promise<LinuxResources | undefined> {
  const fromFlags = options.limits ? await limitsToResources(options.limits) : undefined;
  if (fromFlags && options.applyCgroups) {
    throw bad(
      'cannot apply a cgroups TOML file while using limit flags',
      'use either --apply-cgroups or the limit flags',
    );
  }
  if (fromFlags) return fromFlags;
  if (options.applyCgroups) return loadCgroupsToml(options.applyCgroups);
  return undefined;
}

/**
 * Whether berth can manage cgroups for this launch: as root on a host with cgroups, yes; rootless
 * no (runtimes cannot create cgroups for an unprivileged user without a delegated cgroup v2
 * tree). Throws `ERR_LAUNCH_CGROUPS` naming why.
 */
export function checkCgroupSupport(options: { uid: number; layout: string }): void {
  if (options.layout === 'none') {
    throw bad(
      'system configuration does not support cgroup management: no cgroup filesystem is mounted',
      'drop the limit flags, or mount cgroups on /sys/fs/cgroup',
    );
  }
  if (options.uid !== 0) {
    throw bad(
      options.layout === 'unified'
        ? 'system configuration does not support cgroup management: berth cannot create cgroups rootless'
        : `system configuration does not support cgroup management: rootless cgroups need cgroups v2 in unified mode, and this host is in ${options.layout} mode`,
      'run as root to apply limits, or drop the limit flags and --apply-cgroups',
    );
  }
}
