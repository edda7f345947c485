import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { parseOptions } from '@berth-oci/errors';
import { execa } from 'execa';
import * as v from 'valibot';
import { RuntimeError } from './errors.js';
import { RUNTIME_NAMES, type Runtime } from './find.js';
import { globalArgs } from './host.js';

/** Signals berth passes on to the runtime, which forwards them to the container. */
export const FORWARDED_SIGNALS: NodeJS.Signals[] = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGALRM',
];

/** How long an aborted child gets between SIGTERM and SIGKILL, by default. */
export const KILL_GRACE_MS = 10_000;

/** A stream that stands for an open file descriptor (`process.stdout`, an opened fs stream). */
export type FdStream = (NodeJS.ReadableStream | NodeJS.WritableStream) & { fd: number };

const isFdStream = (x: unknown): x is FdStream =>
  typeof x === 'object' &&
  x !== null &&
  typeof (x as { fd?: unknown }).fd === 'number' &&
  (typeof (x as { pipe?: unknown }).pipe === 'function' ||
    typeof (x as { write?: unknown }).write === 'function');

/**
 * Where one of the child's standard streams goes: the caller's (`inherit`), /dev/null
 * (`ignore`), an open file descriptor, or a stream that has one (its numeric `fd` property).
 */
export const StdioTargetSchema = v.union(
  [
    v.picklist(['inherit', 'ignore']),
    v.pipe(v.number(), v.integer(), v.minValue(0)),
    v.custom<FdStream>(isFdStream),
  ],
  "a stdio target must be 'inherit', 'ignore', a file descriptor or a stream with an fd",
);
export type StdioTarget = v.InferInput<typeof StdioTargetSchema>;

/** The child's stdio: one target for all three streams, or `[stdin, stdout, stderr]`. */
export const StdioSchema = v.union(
  [
    v.picklist(['inherit', 'ignore']),
    v.tuple([StdioTargetSchema, StdioTargetSchema, StdioTargetSchema]),
  ],
  "stdio must be 'inherit', 'ignore' or [stdin, stdout, stderr]",
);
export type Stdio = v.InferInput<typeof StdioSchema>;

/** `stdio` as three targets, streams replaced by their file descriptors. */
export function stdioTargets(stdio: Stdio = 'inherit'): [FdTarget, FdTarget, FdTarget] {
  const [i, o, e] = typeof stdio === 'string' ? [stdio, stdio, stdio] : stdio;
  const fd = (t: StdioTarget): FdTarget => (typeof t === 'object' ? t.fd : t);
  return [fd(i), fd(o), fd(e)];
}

type FdTarget = 'inherit' | 'ignore' | number;

const AbortSignalSchema = v.custom<AbortSignal>(
  (x) => typeof x === 'object' && x !== null && typeof (x as AbortSignal).aborted === 'boolean',
  'signal must be an AbortSignal',
);

const SpawnFields = {
  /**
   * Signals of this process to pass on to the child while it runs (default FORWARDED_SIGNALS);
   * `[]` installs no process handler (the caller forwards with `kill()`).
   */
  signals: v.optional(v.array(v.string())),
  /** Environment for the child (default process.env). */
  env: v.optional(v.record(v.string(), v.optional(v.string()))),
  /** The child's stdin, stdout and stderr (default: this process's). */
  stdio: v.optional(StdioSchema),
  /** Aborting stops the child: SIGTERM, then SIGKILL after `killGraceMs`. */
  signal: v.optional(AbortSignalSchema),
  /** Milliseconds between the SIGTERM and the SIGKILL of an aborted child (default 10 s). */
  killGraceMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
};

export const ForegroundOptionsSchema = v.strictObject({
  ...SpawnFields,
  /** Working directory of the child. */
  cwd: v.optional(v.string()),
});
export type ForegroundOptions = v.InferInput<typeof ForegroundOptionsSchema>;

/** How a foreground process ended: its exit code, or 128+n when a signal ended it. */
export interface ExitStatus {
  exitCode: number;
  signal?: NodeJS.Signals;
}

/** A child started in the foreground. */
export interface ForegroundProcess {
  /** Its process id (undefined when it could not be spawned). */
  pid: number | undefined;
  /** Sends it a signal (default SIGTERM); false when it has already exited. */
  kill(signal?: NodeJS.Signals): boolean;
  /** Settles once it has exited: its exit status, or ERR_RUNTIME_SPAWN when it never ran. */
  exited: Promise<ExitStatus>;
}

/**
 * Starts `file args` with the caller's stdio (or `stdio`), passing the listed signals on to it
 * while it runs. `exited` gives its exit status (128+signal when killed, as a shell reports
 * it); the signal handlers are gone by then.
 */
export function startForeground(
  file: string,
  args: string[],
  options: ForegroundOptions = {},
): ForegroundProcess {
  const opts = parseOptions(ForegroundOptionsSchema, options, 'foreground options', RuntimeError);
  const child = execa(file, args, {
    // execa's types only know fds 0-9; any open descriptor works
    stdio: stdioTargets(opts.stdio as Stdio | undefined) as ['inherit', 'inherit', 'inherit'],
    reject: false,
    env: opts.env as NodeJS.ProcessEnv | undefined,
    extendEnv: opts.env === undefined,
    cwd: opts.cwd,
    // The child gets no signal from execa's own cleanup; we forward what we receive ourselves.
    cleanup: false,
    // Only an aborted child is force-killed after its grace period: a signal passed on by
    // kill() or the forwarding is the child's to handle (execa would SIGKILL it after 5 s).
    forceKillAfterDelay: false,
    ...(opts.signal && {
      cancelSignal: opts.signal as AbortSignal,
      forceKillAfterDelay: opts.killGraceMs ?? KILL_GRACE_MS,
    }),
  });
  const signals = (opts.signals ?? FORWARDED_SIGNALS) as NodeJS.Signals[];
  const forward = (signal: NodeJS.Signals) => {
    child.kill(signal);
  };
  for (const s of signals) process.on(s, forward);
  const exited = (async (): Promise<ExitStatus> => {
    try {
      const result = await child;
      if (result.failed && result.exitCode === undefined && result.signal === undefined) {
        throw new RuntimeError(
          'ERR_RUNTIME_SPAWN',
          `cannot run "${file}": ${result.shortMessage}`,
          {
            hint: 'check that the program exists and is executable',
            cause: result,
          },
        );
      }
      if (result.signal) {
        const n = constants.signals[result.signal] ?? 0;
        return { exitCode: 128 + n, signal: result.signal };
      }
      return { exitCode: result.exitCode ?? 0 };
    } finally {
      for (const s of signals) process.off(s, forward);
    }
  })();
  return {
    pid: child.pid,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => child.kill(signal),
    exited,
  };
}

/**
 * Runs `file args` in the foreground with the caller's stdio, passing the listed signals on to it
 * while it runs, and returns its exit status (128+signal when killed, as a shell reports it).
 */
export function runForeground(
  file: string,
  args: string[],
  options: ForegroundOptions = {},
): Promise<ExitStatus> {
  try {
    return startForeground(file, args, options).exited;
  } catch (e) {
    return Promise.reject(e);
  }
}

export const RunContainerOptionsSchema = v.strictObject({
  runtime: v.object({ name: v.picklist(RUNTIME_NAMES), path: v.string() }),
  /** Absolute path of the bundle. */
  bundle: v.pipe(v.string(), v.startsWith('/')),
  /** Container id. */
  id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)),
  /** Runtime state root (`--root`). */
  root: v.string(),
  /** True when the runtime runs without real root (in a user namespace). */
  rootless: v.boolean(),
  /**
   * Turns the runtime argv into the argv actually spawned, e.g. to enter namespaces first
   * (`unshare ... -- sh -c '...; exec "$@"' sh <argv>`).
   */
  wrap: v.optional(v.custom<(argv: string[]) => string[]>((x) => typeof x === 'function')),
  /**
   * Where the runtime writes its own messages (`--log FILE --log-format json`) instead of the
   * container's stderr: a run that fails with an error there never started the container's
   * process, and `exited` rejects with ERR_RUNTIME_OP naming the runtime's message.
   */
  logFile: v.optional(v.pipe(v.string(), v.startsWith('/'))),
  /** Where the runtime writes the container's init pid (`run --pid-file`), for `killContainer`. */
  pidFile: v.optional(v.pipe(v.string(), v.startsWith('/'))),
  ...SpawnFields,
});
export type RunContainerOptions = v.InferInput<typeof RunContainerOptionsSchema>;

/** The argv of `runtime run` for a bundle (before any wrapping). */
export function runArgv(options: {
  runtime: Runtime;
  bundle: string;
  id: string;
  root: string;
  rootless: boolean;
  logFile?: string;
  pidFile?: string;
}): string[] {
  return [
    options.runtime.path,
    ...globalArgs(options.runtime, options),
    ...(options.logFile ? ['--log', options.logFile, '--log-format', 'json'] : []),
    'run',
    ...(options.pidFile ? ['--pid-file', options.pidFile] : []),
    '--bundle',
    options.bundle,
    options.id,
  ];
}

/** A container started by `startContainerRun`. */
export interface ContainerRun extends ForegroundProcess {
  /**
   * Sends a signal to the container's init process itself (read from `pidFile`), not to the
   * runtime: SIGKILL ends a container whose PID 1 ignores SIGTERM, and the runtime then
   * removes its state as after any exit. False when there is no pid file or the run is over.
   */
  killContainer(signal: NodeJS.Signals): Promise<boolean>;
}

/** The runtime's error messages in its JSON log (`{"level":"error","msg":...}` lines). */
export function runtimeLogErrors(log: string): string[] {
  const out: string[] = [];
  for (const line of log.split('\n')) {
    if (line.trim() === '') continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    const e = entry as { level?: unknown; msg?: unknown };
    if ((e.level === 'error' || e.level === 'fatal') && typeof e.msg === 'string')
      out.push(e.msg.replace(/^\w+ run failed: /, '').trim());
  }
  return out;
}

const readText = (file: string) => readFile(file, 'utf8').catch(() => '');

/**
 * Starts `runtime run` in the foreground: the container's stdio is the caller's (or `stdio`),
 * the listed signals are forwarded (the runtime passes them to the container; `signals: []`
 * forwards none, `kill()` does it), and `exited` gives the container's exit status. Aborting
 * `signal` sends the runtime SIGTERM (passed to the container), then SIGKILL after the grace
 * period; a runtime killed that way leaves its container behind, so it is then force-deleted.
 */
export function startContainerRun(options: RunContainerOptions): ContainerRun {
  const opts = parseOptions(RunContainerOptionsSchema, options, 'run options', RuntimeError);
  const runtime = opts.runtime as Runtime;
  const argv = runArgv({ ...opts, runtime });
  const [file, ...args] = opts.wrap ? opts.wrap(argv) : argv;
  if (file === undefined)
    throw new RuntimeError('ERR_RUNTIME_SPAWN', 'empty command line from wrap()');
  const {
    runtime: _r,
    bundle: _b,
    id: _i,
    root: _o,
    rootless: _l,
    wrap: _w,
    logFile,
    pidFile,
    ...spawn
  } = opts;
  const fg = startForeground(file, args, spawn as ForegroundOptions);
  const signal = opts.signal as AbortSignal | undefined;
  let done = false;
  let containerKilled = false;
  const exited = fg.exited.then(async (status) => {
    done = true;
    if ((signal?.aborted && status.signal === 'SIGKILL') || containerKilled) {
      // a runtime killed, or whose container was, may leave its state: delete it
      const kill = [runtime.path, ...globalArgs(runtime, opts), 'delete', '--force', opts.id];
      await execa(kill[0] as string, kill.slice(1), { reject: false, stdio: 'ignore' });
    }
    if (logFile && status.exitCode !== 0 && status.signal === undefined) {
      const errors = runtimeLogErrors(await readText(logFile));
      if (errors.length > 0) {
        throw new RuntimeError(
          'ERR_RUNTIME_OP',
          `${runtime.name} could not start the container: ${errors[errors.length - 1]}`,
          {
            hint:
              errors.length > 1
                ? `${runtime.name} said: ${errors.join('; ')}`
                : "the container's process never ran; check its command and options",
          },
        );
      }
    }
    return status;
  });
  const killContainer = async (sig: NodeJS.Signals): Promise<boolean> => {
    if (!pidFile || done) return false;
    const pid = Number.parseInt(await readText(pidFile), 10);
    if (!Number.isInteger(pid) || pid <= 1 || done) return false;
    try {
      process.kill(pid, sig);
      if (sig === 'SIGKILL') containerKilled = true;
      return true;
    } catch {
      return false;
    }
  };
  return { ...fg, exited, killContainer };
}

/**
 * `runtime run` in the foreground (`startContainerRun`, awaited): the container's exit status.
 */
export function runContainer(options: RunContainerOptions): Promise<ExitStatus> {
  try {
    return startContainerRun(options).exited;
  } catch (e) {
    return Promise.reject(e);
  }
}
