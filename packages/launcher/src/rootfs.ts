import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '@berth-oci/errors';
import {
  defaultCacheDir,
  type FetchOptions,
  type FetchProgress,
  fetchImageBlobs,
  findCachedRootfs,
  parsePlatform,
  type ResolvedImage,
  recordCacheUse,
  removeTree,
  resolveImage,
  type UnpackProgress,
  unpackToCache,
} from '@berth-oci/image-extract';
import { execa } from 'execa';
import { LaunchError } from './errors.js';
import { ownerFunction, type UsernsPlan, unshareUserArgs } from './identity.js';
import type { LaunchProgress } from './options.js';

/** What the unpack worker reads on stdin. */
export type WorkerRequest =
  | {
      op: 'unpack';
      /** The image, resolved (and its layers fetched) by the parent. */
      image: ResolvedImage;
      /** The reference as the user wrote it, for messages. */
      imageRef: string;
      cacheDir: string;
      variant: string;
      ownerMaps: UsernsPlan['ownerMaps'];
    }
  | {
      /** Unpack the image into `dest` (not the cache): the rootfs of an `oci mount` bundle. */
      op: 'unpack-into';
      image: ResolvedImage;
      dest: string;
      ownerMaps: UsernsPlan['ownerMaps'];
    }
  | {
      /** Remove trees whose files belong to subordinate ids. */
      op: 'remove';
      paths: string[];
    };

/** One line the unpack worker writes on stdout. */
export type WorkerMessage =
  | { type: 'progress'; event: UnpackProgress }
  | { type: 'warning'; message: string }
  | { type: 'done'; path: string }
  | { type: 'error'; code: string; message: string; hint?: string };

export const WORKER_PATH = fileURLToPath(new URL('./unpack-worker.js', import.meta.url));

/** The image options a launch (or a pull) takes: transport, platform, credentials, cache. */
export interface ImageOpenOptions {
  image: string;
  /** `OS/ARCH[/VARIANT]`. */
  platform?: string | undefined;
  authFile?: string | undefined;
  dockerUsername?: string | undefined;
  dockerPassword?: string | undefined;
  noHttps?: boolean | undefined;
  /** Use a temporary cache, removed when the session closes (or the process exits). */
  disableCache?: boolean | undefined;
  cacheDir?: string | undefined;
}

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
  /** Removes the temporary cache (`disableCache`); a no-op otherwise. */
  close(): Promise<void>;
}

/**
 * Resolves the image of a launch: parses `--platform`, reads credentials (options, then
 * DOCKER_USERNAME/DOCKER_PASSWORD, then the auth files), and fetches the manifest and config of
 * `docker://` images into the blob cache. With `disableCache` the cache is a new private
 * temporary directory, removed by `close()` — or, at the latest, when the process exits.
 */
export async function openImage(
  o: ImageOpenOptions,
  hostEnv: Record<string, string | undefined>,
): Promise<ImageSession> {
  const fetchOptions: Omit<FetchOptions, 'onProgress'> = {
    env: hostEnv,
    noHttps: o.noHttps ?? false,
    ...(o.authFile !== undefined && { authFile: nodePath.resolve(o.authFile) }),
    ...(o.dockerUsername !== undefined && { username: o.dockerUsername }),
    ...(o.dockerPassword !== undefined && { password: o.dockerPassword }),
  };
  const platform = o.platform ? parsePlatform(o.platform) : undefined;
  let cacheDir = o.cacheDir ?? defaultCacheDir(hostEnv as NodeJS.ProcessEnv);
  let temporary = false;
  let removeOnExit: (() => void) | undefined;
  const session: ImageSession = {
    image: undefined as unknown as ResolvedImage,
    cacheDir,
    temporary,
    fetchOptions,
    async close() {
      if (!removeOnExit) return;
      process.off('exit', removeOnExit);
      removeOnExit = undefined;
      await removeTreesAs(session.plan, [cacheDir]);
    },
  };
  if (o.disableCache) {
    cacheDir = await mkdtemp(nodePath.join(hostEnv.TMPDIR || os.tmpdir(), 'berth-nocache-'));
    temporary = true;
    session.cacheDir = cacheDir;
    session.temporary = true;
    removeOnExit = () => removeTreeSync(session.plan, cacheDir);
    process.on('exit', removeOnExit);
  }
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
    input: JSON.stringify(request),
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    lines: true,
    ...(signal && { cancelSignal: signal }),
  });
  let done: string | undefined;
  let failure: WorkerMessage | undefined;
  for await (const line of child.iterable({ from: 'stdout' })) {
    let msg: WorkerMessage;
    try {
      msg = JSON.parse(line as string) as WorkerMessage;
    } catch {
      continue;
    }
    if (msg.type === 'progress') on.progress?.(msg.event);
    else if (msg.type === 'warning') on.warning?.(msg.message);
    else if (msg.type === 'done') done = msg.path;
    else failure = msg;
  }
  const result = await child;
  if (failure?.type === 'error') {
    throw new BerthError(failure.code, failure.message, { hint: failure.hint });
  }
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

/** `removeTreesAs` for an `exit` handler (synchronous). */
function removeTreeSync(plan: UsernsPlan | undefined, dir: string): void {
  try {
    if (plan?.kind === 'subid') {
      spawnSync('unshare', [...unshareUserArgs(plan), '--', 'rm', '-rf', '--', dir], {
        stdio: 'ignore',
      });
    } else if (plan?.kind === 'single') {
      spawnSync('chmod', ['-R', 'u+rwX', '--', dir], { stdio: 'ignore' });
    }
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort at exit
  }
}
