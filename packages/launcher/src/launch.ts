/**
 * `launch()`, `start()` and `dryRun()`: the three steps of a launch, in order. The plan
 * (options and probed host facts, checked: plan.ts, inputs.ts, host.ts), the image (opened,
 * unpacked: image-session.ts, rootfs.ts) and the spec (spec.ts), then the run (the bundle:
 * launch-bundle.ts; the runtime under the namespace wrapper: namespace.ts). Everything opened
 * on the way is closed on every path; no process-global handler is installed.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import path from 'node:path';
import type { Spec } from '@berth-oci/bundle-spec';
import { parseOptions } from '@berth-oci/errors';
import { imageDefaults } from '@berth-oci/image-extract';
import { workdirDirectories } from '@berth-oci/mounts';
import {
  type ExitStatus,
  needsCgroupMask,
  runtimeStateRoot,
  type Stdio,
  startContainerRun,
} from '@berth-oci/runtime-ops';
import { checkOptions, checkRuntimeOptions } from './check-options.js';
import { LaunchError } from './errors.js';
import { type HostFacts, probeHost, probeSpecHost } from './host.js';
import { planUserns, type UsernsPlan } from './identity.js';
import { openImage } from './image-session.js';
import { type LaunchInputs, readInputs } from './inputs.js';
import { dryRunBundle, makeBundleDir, removeBundleDir, writeBundle } from './launch-bundle.js';
import { namespaceWrapper } from './namespace.js';
import { type LaunchOptions, LaunchOptionsSchema, type ResolvedLaunchOptions } from './options.js';
import { OVERLAY_UNSAFE } from './overlay.js';
import { imageNotes, type Note, planHost, planOptions, wantsRoot } from './plan.js';
import { ensureRootfs } from './rootfs.js';
import { loadSiteConfig } from './site-config.js';
import { buildSpec } from './spec.js';

/** A container started by `start()`. */
export interface RunningContainer {
  /** The container's id (`berth-` and 16 hex digits). */
  id: string;
  /** Its bundle directory (removed once it has exited). */
  bundle: string;
  /**
   * Sends a signal (default SIGTERM) to the runtime, which passes it on to the container;
   * false once it has exited. This is how a caller forwards the signals it receives.
   */
  kill(signal?: NodeJS.Signals): boolean;
  /**
   * Stops the container: `signal` (default SIGTERM) to the runtime, which passes it on; if the
   * container has not exited `graceMs` later (default STOP_GRACE_MS, 5 s), SIGKILL to the
   * container's init process itself, so nothing outlives the launch, and `exited` then gives
   * 128+`signal`. Calling it again does not restart the grace period.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): void;
  /**
   * Settles once the container has exited and the launch's bundle and temporary cache are
   * removed: its exit status (128+n when a signal ended it).
   */
  exited: Promise<ExitStatus>;
}

/** How long a stopped container gets between the signal and the SIGKILL of its init process. */
export const STOP_GRACE_MS = 5_000;

/** A `stop()` under way: its signal, the grace timer, and whether the SIGKILL was sent. */
interface Stopping {
  signal: NodeJS.Signals;
  timer?: NodeJS.Timeout;
  killed: boolean;
}

/** Async clean-up steps, run last first, each once. */
class Cleanup {
  private steps: (() => Promise<unknown>)[] = [];
  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    let failure: unknown;
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step();
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== undefined) throw failure;
  }
}

/**
 * Starts a container from an image: resolves and unpacks the image (cached), writes a private
 * bundle and starts the runtime. It resolves once the container runs; `exited` gives its exit
 * status. Aborting `signal` before then stops the preparation, removes what it made and
 * rejects with ERR_LAUNCH_INTERRUPTED; aborting it later stops the container (`stop()`: SIGTERM,
 * then SIGKILL of its init process after STOP_GRACE_MS). A runtime that fails before the
 * container's process runs (a missing command, a bad hostname) makes `exited` reject with the
 * runtime's message (ERR_RUNTIME_OP) instead of giving its exit status.
 */
export async function start(options: LaunchOptions): Promise<RunningContainer> {
  const opts = parseOptions(LaunchOptionsSchema, options, 'launch options', LaunchError);
  const signal = opts.signal as AbortSignal | undefined;
  const cleanup = new Cleanup();
  try {
    const p = await prepare(opts, cleanup, true);
    const bundle = p.bundle;
    await writeBundle({
      bundle,
      spec: p.spec,
      files: p.files,
      workdirDirs: p.inputs.workdir ? workdirDirectories(p.inputs.workdir, p.scratch) : [],
      writableOverlay: p.inputs.overlays.writable,
    });
    if (signal?.aborted) throw signal.reason;
    const run = startContainerRun({
      logFile: path.join(bundle, 'runtime.log'),
      pidFile: path.join(bundle, 'container.pid'),
      runtime: p.host.runtime,
      bundle,
      id: p.id,
      root: p.stateRoot,
      rootless: p.userns.kind !== 'root',
      wrap: namespaceWrapper({
        plan: p.userns,
        bundle,
        rootfs: p.rootfs,
        maskCgroup: needsCgroupMask(p.host.runtime, p.host.layout),
        lower: p.inputs.overlays.lower,
        writable: p.inputs.overlays.writable,
        allowSetuid: opts.allowSetuid,
      }),
      signals: [],
      ...(opts.stdio !== undefined && { stdio: opts.stdio as Stdio }),
    });
    let stopping: Stopping | undefined;
    const stop = (sig: NodeJS.Signals = 'SIGTERM', graceMs = STOP_GRACE_MS) => {
      run.kill(sig);
      if (stopping) return;
      const state: Stopping = { signal: sig, killed: false };
      stopping = state;
      state.timer = setTimeout(() => {
        void run.killContainer('SIGKILL').then((killed) => {
          state.killed ||= killed;
        });
      }, graceMs);
    };
    const onAbort = () => stop('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => {
      signal?.removeEventListener('abort', onAbort);
      if (stopping) clearTimeout(stopping.timer);
    };
    const exited = run.exited.then(
      async (status) => {
        settle();
        await cleanup.run();
        if (stopping?.killed) {
          const n = constants.signals[stopping.signal] ?? 0;
          return { exitCode: 128 + n, signal: stopping.signal };
        }
        return status;
      },
      async (error) => {
        settle();
        await cleanup.run().catch(() => {});
        throw error;
      },
    );
    return { id: p.id, bundle, kill: run.kill, stop, exited };
  } catch (e) {
    await cleanup.run().catch(() => {});
    if (signal?.aborted) throw interrupted(signal, e);
    throw e;
  }
}

/**
 * Runs an image (`start()`, then its `exited`): resolves and unpacks it (cached), writes a
 * private bundle, runs the runtime in the foreground and returns the container's exit status.
 * The bundle is removed afterwards, whatever happens.
 */
export async function launch(options: LaunchOptions): Promise<ExitStatus> {
  return (await start(options)).exited;
}

/**
 * The `config.json` `launch()` would run with these options (`berth --dry-run`), validated. No
 * container runs and no bundle, mount or work directory is created; the image is resolved and
 * its rootfs taken from the cache (unpacked into it when missing, as `launch()` would), because
 * the image's files decide the user and the generated /etc files. The bundle paths in the spec
 * point where a launch would put its bundle.
 */
export async function dryRun(options: LaunchOptions): Promise<Spec> {
  const opts = parseOptions(LaunchOptionsSchema, options, 'launch options', LaunchError);
  const signal = opts.signal as AbortSignal | undefined;
  const cleanup = new Cleanup();
  try {
    return (await prepare(opts, cleanup, false)).spec;
  } catch (e) {
    if (signal?.aborted) throw interrupted(signal, e);
    throw e;
  } finally {
    await cleanup.run();
  }
}

function interrupted(signal: AbortSignal, error: unknown): LaunchError {
  const reason = signal.reason;
  if (LaunchError.isInstance(reason) && reason.code === 'ERR_LAUNCH_INTERRUPTED') return reason;
  const by = typeof reason === 'string' ? ` by ${reason}` : '';
  return new LaunchError('ERR_LAUNCH_INTERRUPTED', `launch interrupted${by}`, {
    hint: 'the launch was aborted before the container started; nothing was left behind',
    cause: reason instanceof Error ? reason : error,
  });
}

/** Everything a launch prepares before running: the spec and what the bundle and run need. */
interface Prepared {
  spec: Spec;
  files: Map<string, string | Buffer>;
  host: HostFacts;
  userns: UsernsPlan;
  inputs: LaunchInputs;
  scratch: string[];
  rootfs: string;
  stateRoot: string;
  bundle: string;
  id: string;
}

/**
 * The plan and spec steps: options checked and parsed, the user's files read, the host
 * probed, the image opened and its rootfs made, the spec built. With `makeBundle` the bundle
 * directory is made (and registered with `cleanup`, as the image session is).
 */
async function prepare(
  opts: ResolvedLaunchOptions,
  cleanup: Cleanup,
  makeBundle: boolean,
): Promise<Prepared> {
  const signal = opts.signal as AbortSignal | undefined;
  const checkpoint = () => {
    if (signal?.aborted) throw signal.reason;
  };
  const notify = (notes: Note[]) => {
    for (const n of notes) (n.level === 'warning' ? opts.onWarning : opts.onInfo)?.(n.message);
  };
  const warn = (m: string) => opts.onWarning?.(m);
  checkpoint();
  checkOptions(opts);
  const env = opts.hostEnv ?? process.env;
  const cwd = process.cwd();

  // The site configuration, then the options that need no image: checked first, to fail fast.
  const site = await loadSiteConfig(opts.siteConfig, process.geteuid?.() ?? 0);
  for (const w of site.warnings) warn(w);
  const plan = planOptions(opts, cwd, site.config);
  notify(plan.notes);
  const inputs = await readInputs(opts, cwd, env);
  checkpoint();
  const host = await probeHost({ runtime: opts.runtime, env, cwd });
  checkRuntimeOptions(opts, host.runtime);
  notify(
    planHost(
      opts,
      {
        uid: host.user.uid,
        layout: host.layout,
        runtime: host.runtime,
        limited: inputs.resources !== undefined,
      },
      site.config,
    ),
  );
  checkpoint();

  const session = await openImage(opts, env);
  cleanup.add(() => session.close());
  checkpoint();
  const { image } = session;
  const defaults = imageDefaults(image.config);
  const config = (image.config as { config?: Record<string, unknown> }).config ?? {};
  notify(imageNotes(config, opts.net));
  const userns = await planUserns(
    host.user,
    wantsRoot(opts, host.user.uid, defaults.user),
    opts.onWarning,
  );
  const rootfs = await ensureRootfs({
    image,
    imageRef: opts.image,
    plan: userns,
    cacheDir: session.cacheDir,
    session,
    onProgress: opts.onProgress,
    onWarning: opts.onWarning,
    signal,
  });
  if (OVERLAY_UNSAFE.test(rootfs)) {
    throw new LaunchError(
      'ERR_LAUNCH_PATH',
      `the cache path "${rootfs}" contains a character overlayfs cannot take (, : or \\)`,
      { hint: 'set BERTH_CACHEDIR to a path without them' },
    );
  }
  checkpoint();

  const stateRoot = await runtimeStateRoot({ uid: host.user.uid, env });
  let bundle: string;
  if (makeBundle) {
    bundle = await makeBundleDir(stateRoot);
    cleanup.add(() => removeBundleDir(bundle));
  } else bundle = dryRunBundle(stateRoot);
  const id = `berth-${randomBytes(8).toString('hex')}`;

  const hostSpec = await probeSpecHost(host.user, opts.stdio as Stdio | undefined);
  const { spec, files } = await buildSpec({
    opts,
    host,
    hostSpec,
    plan,
    inputs,
    userns,
    image,
    rootfs,
    bundle,
    id,
    warn,
  });
  checkpoint();
  return {
    spec,
    files,
    host,
    userns,
    inputs,
    scratch: plan.scratch,
    rootfs,
    stateRoot,
    bundle,
    id,
  };
}
