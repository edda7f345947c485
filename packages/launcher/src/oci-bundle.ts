/**
 * `berth oci mount` / `oci umount`: a runnable OCI bundle made from an image — a real rootfs
 * directory unpacked from the image (owned as for a launch), and a `config.json` in the spirit
 * of SingularityCE's `oci mount` (docs/singularity-compat.md) — and its removal.
 */
import { mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildProcess,
  capabilitySet,
  type Mount,
  minimalSpec,
  type Spec,
  writeSpec,
} from '@berth-oci/bundle-spec';
import { isBerthError, parseOptions } from '@berth-oci/errors';
import type { IdMapping } from '@berth-oci/idmap';
import {
  fetchImageBlobs,
  imageDefaults,
  type ResolvedImage,
  unpackImage,
} from '@berth-oci/image-extract';
import { bundleLockPath, readLock } from '@berth-oci/runtime-ops';
import * as v from 'valibot';
import { LaunchError } from './errors.js';
import { hostUser, ownerFunction, planUserns, type UsernsPlan } from './identity.js';
import { openImage } from './image-session.js';
import type { LaunchProgress } from './options.js';
import { removeTreesAs, runWorker } from './rootfs.js';

/** Marks a bundle made by `prepareBundle`: only such bundles are removed by `removeBundle`. */
export const BUNDLE_MARKER = '.berth-bundle.json';

/** The hostname of containers of `oci mount` bundles (SingularityCE writes `singularity`). */
export const BUNDLE_HOSTNAME = 'berth';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const PrepareBundleOptionsSchema = v.object({
  /** Image reference (any transport berth accepts). */
  image: v.pipe(v.string(), v.nonEmpty('an image reference is required')),
  /** The bundle directory: it must not exist, or be empty. */
  bundle: v.pipe(v.string(), v.nonEmpty('a bundle path is required')),
  /** `process.terminal` (default true, as `oci mount` upstream: `oci create` gives it a pty). */
  terminal: v.optional(v.boolean(), true),
  /** Diagnostics for the user. */
  onWarning: v.optional(v.custom<(message: string) => void>((f) => typeof f === 'function')),
  /** Unpack progress. */
  onProgress: v.optional(v.custom<(event: LaunchProgress) => void>((f) => typeof f === 'function')),
});
export type PrepareBundleOptions = v.InferInput<typeof PrepareBundleOptionsSchema>;

/** What `prepareBundle` made. */
export interface PreparedBundle {
  bundle: string;
  rootfs: string;
  config: string;
  spec: Spec;
}

const bundleError = (message: string, hint?: string, cause?: unknown) =>
  new LaunchError('ERR_LAUNCH_BUNDLE', message, { hint, cause });

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

/** The worker that unpacks into the bundle inside the outer user namespace. */
async function emptyOrMissing(dir: string): Promise<boolean> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) return false;
    return (await readdir(dir)).length === 0;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/**
 * Makes a runnable bundle from an image: `<bundle>/rootfs` unpacked from the image (for an
 * ordinary user with subordinate ids, in the outer user namespace through a worker, so image
 * owners are kept through the subordinate ids), `<bundle>/config.json` (the image's command,
 * uid 0 in the container: root itself, or the user mapped as root), and a marker file. The
 * bundle is created 0700. On failure everything made is removed.
 */
export async function prepareBundle(options: PrepareBundleOptions): Promise<PreparedBundle> {
  const o = parseOptions(PrepareBundleOptionsSchema, options, 'bundle options');
  const bundle = path.resolve(o.bundle);
  if (!(await emptyOrMissing(bundle))) {
    throw bundleError(
      `bundle "${bundle}" already exists and is not an empty directory`,
      'give a new path, or remove it with berth oci umount',
    );
  }
  const user = await hostUser();
  const plan = await planUserns(user, true, o.onWarning);
  // Resolve and fetch here, as the user and with the network; the worker in the user
  // namespace only unpacks from local blobs.
  const session = await openImage({ image: o.image }, process.env);
  const image = session.image;
  await fetchImageBlobs(image, session.fetchOptions);
  const spec = bundleSpec({ image, plan, terminal: o.terminal });
  const existed = (await stat(bundle).catch(() => undefined)) !== undefined;
  try {
    await mkdir(bundle, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw bundleError(
      `cannot create bundle "${bundle}": ${(cause as NodeJS.ErrnoException).code ?? cause}`,
      'choose a directory you can write',
      cause,
    );
  }
  const rootfs = path.join(bundle, 'rootfs');
  try {
    o.onProgress?.({ phase: 'unpack-start', image: o.image, layers: image.layers.length });
    if (plan.kind === 'subid') {
      await runWorker(
        plan,
        { op: 'unpack-into', image, dest: rootfs, ownerMaps: plan.ownerMaps },
        { ...(o.onWarning && { warning: o.onWarning }) },
        undefined,
        `unpack "${o.image}"`,
      );
    } else
      await unpackImage(image, rootfs, {
        owner: plan.ownerMaps ? ownerFunction(plan.ownerMaps) : undefined,
        onWarning: o.onWarning,
      });
    o.onProgress?.({ phase: 'unpack-done', image: o.image });
    const config = await writeSpec(bundle, spec);
    await writeFile(
      path.join(bundle, BUNDLE_MARKER),
      `${JSON.stringify({ image: o.image, uid: user.uid, created: new Date().toISOString() })}\n`,
      { mode: 0o600 },
    );
    return { bundle, rootfs, config, spec };
  } catch (e) {
    await removeTreesAs(plan, [rootfs]).catch(() => {});
    await rm(path.join(bundle, 'config.json'), { force: true });
    if (!existed) await rmdir(bundle).catch(() => {});
    throw e;
  }
}

export const RemoveBundleOptionsSchema = v.object({
  bundle: v.pipe(v.string(), v.nonEmpty('a bundle path is required')),
  onWarning: v.optional(v.custom<(message: string) => void>((f) => typeof f === 'function')),
});
export type RemoveBundleOptions = v.InferInput<typeof RemoveBundleOptionsSchema>;

/**
 * Removes a bundle made by `prepareBundle` (`oci umount`): its rootfs (inside the user namespace
 * for an ordinary user: it holds files of the subordinate ids), config.json, the marker, conmon's
 * leftovers, then the directory itself. Refuses a bundle without the marker, and one locked by a
 * container.
 */
export async function removeBundle(options: RemoveBundleOptions): Promise<void> {
  const o = parseOptions(RemoveBundleOptionsSchema, options, 'bundle options');
  const bundle = path.resolve(o.bundle);
  try {
    await readFile(path.join(bundle, BUNDLE_MARKER));
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    const exists = await stat(bundle).then(
      () => true,
      () => false,
    );
    throw bundleError(
      exists && missing
        ? `"${bundle}" is not a bundle made by berth oci mount`
        : `bundle "${bundle}" does not exist`,
      exists ? 'only bundles made by berth oci mount are removed' : undefined,
      cause,
    );
  }
  const lock = await readLock(bundleLockPath(bundle));
  if (lock !== undefined) {
    throw bundleError(
      `bundle "${bundle}" is in use${lock.id ? ` by container "${lock.id}"` : ''}`,
      lock.id ? `delete it first: berth oci delete ${lock.id}` : `remove ${bundleLockPath(bundle)}`,
    );
  }
  const plan = await planUserns(await hostUser(), true, o.onWarning);
  try {
    await removeTreesAs(plan, [path.join(bundle, 'rootfs')]);
  } catch (e) {
    if (isBerthError(e)) throw e;
    throw bundleError(`cannot remove "${path.join(bundle, 'rootfs')}"`, undefined, e);
  }
  for (const name of ['config.json', 'attach', 'ctl', 'winsz', BUNDLE_MARKER])
    await rm(path.join(bundle, name), { force: true });
  try {
    await rmdir(bundle);
  } catch (cause) {
    const left = await readdir(bundle).catch(() => [] as string[]);
    throw bundleError(
      `cannot remove bundle "${bundle}": it still holds ${left.join(', ') || 'files'}`,
      'remove what you added to it, then run berth oci umount again',
      cause,
    );
  }
}
