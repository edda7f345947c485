import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BerthError } from '@berth/errors';
import { findCachedRootfs, type ResolvedImage, unpackToCache } from '@berth/image-extract';
import { execa } from 'execa';
import { LaunchError } from './errors.js';
import { ownerFunction, type UsernsPlan, unshareUserArgs } from './identity.js';
import type { LaunchProgress } from './options.js';

/** What the unpack worker reads on stdin. */
export interface WorkerRequest {
  image: string;
  cacheDir: string;
  variant: string;
  ownerMaps: UsernsPlan['ownerMaps'];
}

/** One line the unpack worker writes on stdout. */
export type WorkerMessage =
  | { type: 'progress'; event: LaunchProgress }
  | { type: 'warning'; message: string }
  | { type: 'done'; path: string }
  | { type: 'error'; code: string; message: string; hint?: string };

export const WORKER_PATH = fileURLToPath(new URL('./unpack-worker.js', import.meta.url));

export interface EnsureRootfsOptions {
  image: ResolvedImage;
  imageRef: string;
  plan: UsernsPlan;
  cacheDir: string;
  onProgress?: (e: LaunchProgress) => void;
  onWarning?: (message: string) => void;
  /** Stops an unpack in the user namespace (the worker is killed). */
  signal?: AbortSignal;
}

/**
 * The unpacked rootfs of `image` for the ownership scheme of `plan`: from the cache, or unpacked
 * now. Unpacking that must give files to subordinate ids runs in the outer user namespace, in a
 * worker process; everything else runs here.
 */
export async function ensureRootfs(options: EnsureRootfsOptions): Promise<string> {
  const { image, plan, cacheDir } = options;
  const cached = await findCachedRootfs(cacheDir, image.manifestDigest, plan.cacheVariant);
  if (cached) return cached;
  try {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new LaunchError(
      'ERR_LAUNCH_PATH',
      `cannot create the cache directory "${cacheDir}": ${(cause as NodeJS.ErrnoException).code ?? cause}`,
      {
        hint: 'set BERTH_CACHEDIR to a directory you can write',
        cause,
      },
    );
  }
  options.onProgress?.({
    phase: 'unpack-start',
    image: options.imageRef,
    layers: image.layers.length,
  });
  let path: string;
  if (plan.kind === 'subid') {
    path = await unpackInNamespace(options);
  } else {
    path = await unpackToCache({
      image,
      cacheDir,
      variant: plan.cacheVariant,
      owner: plan.ownerMaps ? ownerFunction(plan.ownerMaps) : undefined,
      onWarning: options.onWarning,
    });
  }
  options.onProgress?.({ phase: 'unpack-done', image: options.imageRef });
  return path;
}

async function unpackInNamespace(options: EnsureRootfsOptions): Promise<string> {
  const request: WorkerRequest = {
    image: options.imageRef,
    cacheDir: options.cacheDir,
    variant: options.plan.cacheVariant,
    ownerMaps: options.plan.ownerMaps,
  };
  const child = execa(
    'unshare',
    [...unshareUserArgs(options.plan), '--', process.execPath, WORKER_PATH],
    {
      input: JSON.stringify(request),
      stdout: 'pipe',
      stderr: 'pipe',
      reject: false,
      lines: true,
    },
  );
  let done: string | undefined;
  let failure: WorkerMessage | undefined;
  for await (const line of child.iterable({ from: 'stdout' })) {
    let msg: WorkerMessage;
    try {
      msg = JSON.parse(line as string) as WorkerMessage;
    } catch {
      continue;
    }
    if (msg.type === 'progress') options.onProgress?.(msg.event);
    else if (msg.type === 'warning') options.onWarning?.(msg.message);
    else if (msg.type === 'done') done = msg.path;
    else failure = msg;
  }
  const result = await child;
  if (failure?.type === 'error') {
    throw new BerthError(failure.code, failure.message, { hint: failure.hint });
  }
  if (done === undefined || result.exitCode !== 0) {
    const stderr = (
      Array.isArray(result.stderr) ? result.stderr.join('\n') : String(result.stderr)
    ).trim();
    throw new LaunchError(
      'ERR_LAUNCH_USERNS',
      `cannot unpack "${options.imageRef}" in a user namespace: ${stderr || `exit status ${result.exitCode}`}`,
      {
        hint: 'check that newuidmap/newgidmap (package uidmap) are installed and your /etc/subuid and /etc/subgid entries are valid',
      },
    );
  }
  return done;
}
