/**
 * The unpacked rootfs of a launch, from the cache or made now (in this process, or in the
 * unpack worker inside the outer user namespace), and the removal of trees owned by
 * subordinate ids.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { errorFromJSON } from '@berth-oci/errors';
import {
  type FetchProgress,
  fetchImageBlobs,
  findCachedRootfs,
  type ResolvedImage,
  recordCacheUse,
  removeTree,
  type UnpackProgress,
  unpackToCache,
} from '@berth-oci/image-extract';
import { execa } from 'execa';
import * as v from 'valibot';
import { LaunchError } from './errors.js';
import { ownerFunction, type UsernsPlan, unshareUserArgs } from './identity.js';
import type { ImageSession } from './image-session.js';
import type { LaunchProgress } from './options.js';
import {
  type WorkerMessage,
  WorkerMessageSchema,
  type WorkerRequest,
  WorkerRequestSchema,
} from './worker-protocol.js';

export const WORKER_PATH = fileURLToPath(new URL('./unpack-worker.js', import.meta.url));

export interface EnsureRootfsOptions {
  image: ResolvedImage;
  imageRef: string;
  plan: UsernsPlan;
  cacheDir: string;
  /** The session from `openImage` (for the layers of docker:// images). */
  session?: ImageSession;
  onProgress?: ((e: LaunchProgress) => void) | undefined;
  onWarning?: ((message: string) => void) | undefined;
  /** Stops downloads, and an unpack in the user namespace (the worker is killed). */
  signal?: AbortSignal | undefined;
}

function downloadEvent(imageRef: string, e: FetchProgress): LaunchProgress {
  return {
    phase: 'download',
    image: imageRef,
    layer: e.layer,
    layers: e.layers,
    digest: e.digest,
    bytes: e.bytes,
    size: e.size,
    done: e.phase !== 'downloading',
    cached: e.phase === 'present',
  };
}

/** Maps unpack progress to launch progress, announcing the unpack at its first event. */
function unpackReporter(
  imageRef: string,
  onProgress: ((e: LaunchProgress) => void) | undefined,
): { event(e: UnpackProgress): void; started(): boolean; entries(): number } {
  let started = false;
  let entries = 0;
  return {
    event(e) {
      entries = e.entries;
      if (!onProgress) return;
      if (!started) {
        started = true;
        onProgress({ phase: 'unpack-start', image: imageRef, layers: e.layers });
      }
      if (e.phase === 'verifying') return;
      onProgress({
        phase: 'unpack-layer',
        layer: e.layer,
        layers: e.layers,
        digest: e.digest,
        bytes: e.bytes,
        size: e.size,
        entries: e.entries,
        done: e.phase === 'extracted',
      });
    },
    started: () => started,
    entries: () => entries,
  };
}

/**
 * The unpacked rootfs of `image` for the ownership scheme of `plan`: from the cache, or made
 * now. `docker://` layers are fetched into the blob cache here, in this process (network as the
 * user); unpacking that must give files to subordinate ids runs in the outer user namespace, in
 * a worker process that reads the verified blobs from the cache; everything else runs here.
 * The cache lock makes concurrent launches unpack once; the others wait and reuse the tree.
 */
export async function ensureRootfs(options: EnsureRootfsOptions): Promise<string> {
  const { image, plan, cacheDir, session } = options;
  if (session) session.plan = plan;
  const cached = await findCachedRootfs(cacheDir, image.manifestDigest, plan.cacheVariant);
  if (cached) {
    await recordCacheUse(cacheDir, image, plan.cacheVariant);
    return cached;
  }
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
  const progress = options.onProgress;
  await fetchImageBlobs(image, {
    ...(session?.fetchOptions ?? {}),
    ...(options.signal && { signal: options.signal }),
    ...(progress && {
      onProgress: (e: FetchProgress) => progress(downloadEvent(options.imageRef, e)),
    }),
  });
  const reporter = unpackReporter(options.imageRef, progress);
  let path: string;
  if (plan.kind === 'subid') {
    path = await unpackInNamespace(options, reporter.event);
  } else {
    path = await unpackToCache({
      image,
      cacheDir,
      variant: plan.cacheVariant,
      owner: plan.ownerMaps ? ownerFunction(plan.ownerMaps) : undefined,
      onWarning: options.onWarning,
      onProgress: reporter.event,
    });
  }
  if (reporter.started())
    progress?.({ phase: 'unpack-done', image: options.imageRef, entries: reporter.entries() });
  await recordCacheUse(cacheDir, image, plan.cacheVariant);
  return path;
}

/** Runs the worker in the outer user namespace of `plan` and collects its messages. */
export async function runWorker(
  plan: UsernsPlan,
  request: WorkerRequest,
  on: { progress?: (e: UnpackProgress) => void; warning?: (m: string) => void },
  signal: AbortSignal | undefined,
  what: string,
): Promise<string | undefined> {
  const child = execa('unshare', [...unshareUserArgs(plan), '--', process.execPath, WORKER_PATH], {
    input: JSON.stringify(v.parse(WorkerRequestSchema, request)),
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    lines: true,
    ...(signal && { cancelSignal: signal }),
  });
  let done: string | undefined;
  let failure: WorkerMessage | undefined;
  for await (const line of child.iterable({ from: 'stdout' })) {
    let json: unknown;
    try {
      json = JSON.parse(line as string);
    } catch {
      continue;
    }
    const parsed = v.safeParse(WorkerMessageSchema, json);
    if (!parsed.success) continue;
    const msg = parsed.output;
    if (msg.type === 'progress') on.progress?.(msg.event);
    else if (msg.type === 'warning') on.warning?.(msg.message);
    else if (msg.type === 'done') done = msg.path;
    else failure = msg;
  }
  const result = await child;
  // a berth error keeps its code and hint, a bug its stack and internal marker
  if (failure?.type === 'error') throw errorFromJSON(failure.error);
  if (result.exitCode !== 0 || (request.op === 'unpack' && done === undefined)) {
    const stderr = (
      Array.isArray(result.stderr) ? result.stderr.join('\n') : String(result.stderr ?? '')
    ).trim();
    throw new LaunchError(
      'ERR_LAUNCH_USERNS',
      `cannot ${what} in a user namespace: ${stderr || (result.signal ? `the worker was killed by ${result.signal}` : `exit status ${result.exitCode}`)}`,
      {
        hint: 'check that newuidmap/newgidmap (package uidmap) are installed and your /etc/subuid and /etc/subgid entries are valid',
      },
    );
  }
  return done;
}

async function unpackInNamespace(
  options: EnsureRootfsOptions,
  onProgress: (e: UnpackProgress) => void,
): Promise<string> {
  const request: WorkerRequest = {
    op: 'unpack',
    image: options.image,
    imageRef: options.imageRef,
    cacheDir: options.cacheDir,
    variant: options.plan.cacheVariant,
    ownerMaps: options.plan.ownerMaps,
  };
  const done = await runWorker(
    options.plan,
    request,
    { progress: onProgress, ...(options.onWarning && { warning: options.onWarning }) },
    options.signal,
    `unpack "${options.imageRef}"`,
  );
  return done as string;
}

/**
 * Removes trees unpacked for `plan`: inside its outer user namespace when their files belong to
 * subordinate ids (the user cannot remove those from outside), here otherwise.
 */
export async function removeTreesAs(plan: UsernsPlan | undefined, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  if (plan?.kind === 'subid') {
    await runWorker(plan, { op: 'remove', paths }, {}, undefined, `remove ${paths.length} trees`);
    return;
  }
  for (const p of paths) await removeTree(p);
}
