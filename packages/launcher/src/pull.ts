import { parseOptions } from '@berth-oci/errors';
import {
  type CacheListing,
  type CleanResult,
  cleanCache,
  defaultCacheDir,
  formatImageRef,
  formatPlatform,
  imageDefaults,
  listCache,
} from '@berth-oci/image-extract';
import * as v from 'valibot';
import { LaunchError } from './errors.js';
import { hostUser, planUserns } from './identity.js';
import { openImage } from './image-session.js';
import { ImageOptionsSchema, type LaunchProgress, strictOptions } from './options.js';
import { ensureRootfs, removeTreesAs } from './rootfs.js';

const Callback = <T>() => v.optional(v.custom<T>((f) => typeof f === 'function'));
const Env = v.optional(v.record(v.string(), v.optional(v.string())));

export { ImageOptionsSchema };

/** Options of `pull()`. */
export const PullOptionsSchema = strictOptions({
  ...ImageOptionsSchema.entries,
  /** Prepare the rootfs a `--fakeroot` launch uses (its files are owned differently). */
  fakeroot: v.optional(v.boolean(), false),
  /** Host environment (DOCKER_USERNAME, XDG_RUNTIME_DIR, HOME, BERTH_CACHEDIR); default `process.env`. */
  hostEnv: Env,
  onWarning: Callback<(message: string) => void>(),
  onProgress: Callback<(event: LaunchProgress) => void>(),
});
export type PullOptions = v.InferInput<typeof PullOptionsSchema>;

/** What `pull()` did. */
export interface PullResult {
  /** The normalised reference (`docker://docker.io/library/alpine:latest`). */
  image: string;
  manifestDigest: string;
  platform?: string;
  layers: number;
  /** The cached rootfs (undefined with `disableCache`: it was removed). */
  rootfs?: string;
}

const isRootUser = (u: string | undefined) => u !== undefined && /^(0|root)(:.*)?$/.test(u);

/**
 * `berth pull`: resolves an image, fetches its layers into the blob cache and unpacks it into
 * the rootfs cache, for the ownership a launch by this user will need — so that the next launch
 * does no fetching and no unpacking.
 */
export async function pull(options: PullOptions): Promise<PullResult> {
  const o = parseOptions(PullOptionsSchema, options, 'pull options', LaunchError);
  const hostEnv = o.hostEnv ?? process.env;
  const session = await openImage(o, hostEnv);
  try {
    const { image } = session;
    const user = await hostUser();
    const defaults = imageDefaults(image.config);
    const runAsImageRoot = !o.fakeroot && user.uid !== 0 && isRootUser(defaults.user);
    const plan = await planUserns(user, o.fakeroot || runAsImageRoot, o.onWarning);
    const rootfs = await ensureRootfs({
      image,
      imageRef: o.image,
      plan,
      cacheDir: session.cacheDir,
      session,
      onProgress: o.onProgress,
      onWarning: o.onWarning,
    });
    const out: PullResult = {
      image: formatImageRef(image.ref),
      manifestDigest: image.manifestDigest,
      layers: image.layers.length,
    };
    if (image.platform) out.platform = formatPlatform(image.platform);
    if (!session.temporary) out.rootfs = rootfs;
    return out;
  } finally {
    await session.close();
  }
}

/** Options of `listImageCache` and `cleanImageCache`. */
export const ImageCacheOptionsSchema = strictOptions({
  cacheDir: v.optional(v.string()),
  /** `cleanImageCache`: remove everything. */
  all: v.optional(v.boolean(), false),
  /** `cleanImageCache`: remove this image (a reference it was used by, or its manifest digest). */
  image: v.optional(v.pipe(v.string(), v.nonEmpty())),
  hostEnv: Env,
  onWarning: Callback<(message: string) => void>(),
});
export type ImageCacheOptions = v.InferInput<typeof ImageCacheOptionsSchema>;

/** The unpacked images and blobs of the cache (`berth cache list`). */
export async function listImageCache(options: ImageCacheOptions = {}): Promise<CacheListing> {
  const o = parseOptions(ImageCacheOptionsSchema, options, 'cache options', LaunchError);
  return listCache(o.cacheDir ?? defaultCacheDir((o.hostEnv ?? process.env) as NodeJS.ProcessEnv));
}

/**
 * `berth cache clean`: leftovers and unused blobs, one image, or everything (see
 * `cleanCache` of @berth-oci/image-extract). Trees unpacked for a user namespace hold files owned
 * by subordinate ids, which the user cannot remove from outside: they are removed inside the
 * same user namespace the unpack worker uses.
 */
export async function cleanImageCache(options: ImageCacheOptions = {}): Promise<CleanResult> {
  const o = parseOptions(ImageCacheOptionsSchema, options, 'cache options', LaunchError);
  const cacheDir = o.cacheDir ?? defaultCacheDir((o.hostEnv ?? process.env) as NodeJS.ProcessEnv);
  const user = await hostUser();
  const plan = user.uid === 0 ? undefined : await planUserns(user, false, o.onWarning);
  return cleanCache({
    cacheDir,
    all: o.all,
    ...(o.image !== undefined && { image: o.image }),
    removeTrees: (paths) => removeTreesAs(plan, paths),
  });
}
