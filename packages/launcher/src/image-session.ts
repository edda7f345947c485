/**
 * Opening the image of a launch or a pull: the reference resolved, credentials read, and the
 * cache it is fetched and unpacked into (a private temporary one with `disableCache`, removed
 * by `close()`). The caller closes the session on every path; nothing is left to an `exit`
 * handler.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import {
  defaultCacheDir,
  type FetchOptions,
  parsePlatform,
  type ResolvedImage,
  resolveImage,
  TokenCache,
} from '@berth-oci/image-extract';
import type * as v from 'valibot';
import { LaunchError } from './errors.js';
import { pathProblem } from './fs-errors.js';
import type { UsernsPlan } from './identity.js';
import type { ImageOptionsSchema } from './options.js';
import { removeTreesAs } from './rootfs.js';

/**
 * The image options a launch (or a pull) takes: transport, platform, credentials, cache
 * (`disableCache`: a temporary cache, removed when the session closes).
 */
export type ImageOpenOptions = v.InferInput<typeof ImageOptionsSchema>;

/** A resolved image and the cache it is fetched and unpacked into. */
export interface ImageSession {
  image: ResolvedImage;
  /** The cache directory (a temporary one with `disableCache`). */
  cacheDir: string;
  /** Whether `cacheDir` is this session's temporary directory. */
  temporary: boolean;
  /** How to reach the registry again for the layers (docker://). */
  fetchOptions: Omit<FetchOptions, 'onProgress'>;
  /** The ownership plan the rootfs was unpacked for (set by `ensureRootfs`). */
  plan?: UsernsPlan;
  /** Removes the temporary cache (`disableCache`); a no-op otherwise, and after the first call. */
  close(): Promise<void>;
}

/**
 * Resolves the image of a launch: parses `--platform`, reads credentials (options, then
 * DOCKER_USERNAME/DOCKER_PASSWORD, then the auth files), and fetches the manifest and config of
 * `docker://` images into the blob cache. With `disableCache` the cache is a new private
 * temporary directory, removed by `close()`. On failure nothing is left open.
 */
export async function openImage(
  o: ImageOpenOptions & { onWarning?: ((message: string) => void) | undefined },
  hostEnv: Record<string, string | undefined>,
): Promise<ImageSession> {
  const onWarning = o.onWarning;
  const fetchOptions: Omit<FetchOptions, 'onProgress'> = {
    env: hostEnv,
    // a Retry-After or a stalled download is said, not sat through in silence
    ...(onWarning && { onWait: (e: { message: string }) => onWarning(e.message) }),
    noHttps: o.noHttps ?? false,
    // one registry token for the manifest and the layers of this image, as before the split
    tokenCache: new TokenCache(),
    ...(o.authFile !== undefined && { authFile: nodePath.resolve(o.authFile) }),
    ...(o.dockerUsername !== undefined && { username: o.dockerUsername }),
    ...(o.dockerPassword !== undefined && { password: o.dockerPassword }),
  };
  const platform = o.platform ? parsePlatform(o.platform) : undefined;
  const temporary = o.disableCache === true;
  const cacheDir = temporary
    ? await temporaryCache(hostEnv.TMPDIR || os.tmpdir())
    : (o.cacheDir ?? defaultCacheDir(hostEnv as NodeJS.ProcessEnv));
  let open = temporary;
  const session: ImageSession = {
    image: undefined as unknown as ResolvedImage,
    cacheDir,
    temporary,
    fetchOptions,
    async close() {
      if (!open) return;
      open = false;
      await removeTreesAs(session.plan, [cacheDir]);
    },
  };
  try {
    session.image = await resolveImage(o.image, {
      ...fetchOptions,
      cacheDir,
      ...(platform && { platform }),
    });
  } catch (error) {
    await session.close();
    throw error;
  }
  return session;
}

async function temporaryCache(tmp: string): Promise<string> {
  try {
    return await mkdtemp(nodePath.join(tmp, 'berth-nocache-'));
  } catch (cause) {
    throw new LaunchError(
      'ERR_LAUNCH_PATH',
      `cannot make a temporary cache for --disable-cache in "${tmp}": ${pathProblem(cause)}`,
      { hint: 'set TMPDIR to a directory you can write', cause },
    );
  }
}
