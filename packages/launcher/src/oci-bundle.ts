/**
 * `berth oci mount` / `oci umount`: a runnable OCI bundle made from an image — a real rootfs
 * directory unpacked from the image (owned as for a launch), and a `config.json` in the spirit
 * of SingularityCE's `oci mount` (docs/singularity-compat.md) — and its removal.
 */
import { mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Spec, writeSpec } from '@berth-oci/bundle-spec';
import { isBerthError, parseOptions } from '@berth-oci/errors';
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
import { type BundleUser, bundleSpec, resolveBundleUser } from './oci-bundle-spec.js';
import type { LaunchProgress } from './options.js';
import { removeTreesAs, runWorker } from './rootfs.js';

/** Marks a bundle made by `prepareBundle`: only such bundles are removed by `removeBundle`. */
export const BUNDLE_MARKER = '.berth-bundle.json';

export const PrepareBundleOptionsSchema = v.strictObject({
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
 * as its User, else uid 0 in the container: root itself, or the user mapped as root), and a
 * marker file. The
 * bundle is created 0700. On failure everything made is removed.
 */
export async function prepareBundle(options: PrepareBundleOptions): Promise<PreparedBundle> {
  const o = parseOptions(PrepareBundleOptionsSchema, options, 'bundle options', LaunchError);
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
  const session = await openImage(
    { image: o.image, ...(o.onWarning && { onWarning: o.onWarning }) },
    process.env,
  );
  try {
    await fetchImageBlobs(session.image, session.fetchOptions);
    return await fillBundle(o, bundle, user.uid, plan, session.image);
  } finally {
    await session.close();
  }
}

/** Makes the bundle directory and fills it; removes what it made on failure. */
async function fillBundle(
  o: v.InferOutput<typeof PrepareBundleOptionsSchema>,
  bundle: string,
  uid: number,
  plan: UsernsPlan,
  image: ResolvedImage,
): Promise<PreparedBundle> {
  // The image config is checked before anything is made; its User is resolved after the unpack.
  const imageUser = imageDefaults(image.config).user;
  if (imageUser === undefined) bundleSpec({ image, plan, terminal: o.terminal });
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
    let user: BundleUser | undefined;
    if (imageUser !== undefined)
      user = await resolveBundleUser({ user: imageUser, rootfs, image: o.image });
    const spec = bundleSpec({
      image,
      plan,
      terminal: o.terminal,
      imageRef: o.image,
      ...(user && { user }),
    });
    const config = await writeSpec(bundle, spec);
    await writeFile(
      path.join(bundle, BUNDLE_MARKER),
      `${JSON.stringify({ image: o.image, uid, created: new Date().toISOString(), madeDir: !existed })}\n`,
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

export const RemoveBundleOptionsSchema = v.strictObject({
  bundle: v.pipe(v.string(), v.nonEmpty('a bundle path is required')),
  onWarning: v.optional(v.custom<(message: string) => void>((f) => typeof f === 'function')),
});
export type RemoveBundleOptions = v.InferInput<typeof RemoveBundleOptionsSchema>;

/**
 * Removes a bundle made by `prepareBundle` (`oci umount`): its rootfs (inside the user namespace
 * for an ordinary user: it holds files of the subordinate ids), config.json, the marker, conmon's
 * leftovers, then the directory itself when `oci mount` created it (a directory that existed
 * before is left in place, empty). Refuses a bundle without the marker, and one locked by a
 * container.
 */
export async function removeBundle(options: RemoveBundleOptions): Promise<void> {
  const o = parseOptions(RemoveBundleOptionsSchema, options, 'bundle options', LaunchError);
  const bundle = path.resolve(o.bundle);
  let marker: string;
  try {
    marker = await readFile(path.join(bundle, BUNDLE_MARKER), 'utf8');
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
  const left = await readdir(bundle).catch(() => [] as string[]);
  if (left.length > 0) {
    throw bundleError(
      `cannot remove bundle "${bundle}": it still holds ${left.join(', ')}`,
      'remove what you added to it, then run berth oci umount again',
    );
  }
  // A directory that existed before `oci mount` is the user's: it is left in place, empty.
  if (!madeByMount(marker)) return;
  try {
    await rmdir(bundle);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw bundleError(
      `cannot remove the empty bundle directory "${bundle}": ${
        code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? String(cause))
      }`,
      `its contents are gone; remove the directory yourself, or check that you may write "${path.dirname(bundle)}"`,
      cause,
    );
  }
}

const BundleMarkerSchema = v.looseObject({ madeDir: v.optional(v.boolean()) });

/** Whether `oci mount` created the bundle directory (markers written before this was recorded say nothing: assume it did). */
function madeByMount(marker: string): boolean {
  try {
    const parsed = v.safeParse(BundleMarkerSchema, JSON.parse(marker));
    return !parsed.success || parsed.output.madeDir !== false;
  } catch {
    return true;
  }
}
