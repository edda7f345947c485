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

export const ForegroundOptionsSchema = v.object({
  /** Signals to pass on to the child while it runs (default FORWARDED_SIGNALS). */
  signals: v.optional(v.array(v.string())),
  /** Environment for the child (default process.env). */
  env: v.optional(v.record(v.string(), v.optional(v.string()))),
  /** Working directory of the child. */
  cwd: v.optional(v.string()),
});
export type ForegroundOptions = v.InferInput<typeof ForegroundOptionsSchema>;

/** How a foreground process ended: its exit code, or 128+n when a signal ended it. */
export interface ExitStatus {
  exitCode: number;
  signal?: NodeJS.Signals;
}

/**
 * Runs `file args` in the foreground with the caller's stdio, passing the listed signals on to it
 * while it runs, and returns its exit status (128+signal when killed, as a shell reports it).
 */
export async function runForeground(
  file: string,
  args: string[],
  options: ForegroundOptions = {},
): Promise<ExitStatus> {
  const opts = parseOptions(ForegroundOptionsSchema, options, 'foreground options');
  const child = execa(file, args, {
    stdio: 'inherit',
    reject: false,
    env: opts.env as NodeJS.ProcessEnv | undefined,
    extendEnv: opts.env === undefined,
    cwd: opts.cwd,
    // The child gets no signal from execa's own cleanup; we forward what we receive ourselves.
    cleanup: false,
  });
  const signals = (opts.signals ?? FORWARDED_SIGNALS) as NodeJS.Signals[];
  const forward = (signal: NodeJS.Signals) => {
    child.kill(signal);
  };
  for (const s of signals) process.on(s, forward);
  try {
    const result = await child;
    if (result.failed && result.exitCode === undefined && result.signal === undefined) {
      throw new RuntimeError('ERR_RUNTIME_SPAWN', `cannot run "${file}": ${result.shortMessage}`, {
        hint: 'check that the program exists and is executable',
        cause: result,
      });
    }
    if (result.signal) {
      const n = constants.signals[result.signal] ?? 0;
      return { exitCode: 128 + n, signal: result.signal };
    }
    return { exitCode: result.exitCode ?? 0 };
  } finally {
    for (const s of signals) process.off(s, forward);
  }
}

export const RunContainerOptionsSchema = v.object({
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
  signals: v.optional(v.array(v.string())),
  env: v.optional(v.record(v.string(), v.optional(v.string()))),
});
export type RunContainerOptions = v.InferInput<typeof RunContainerOptionsSchema>;

/** The argv of `runtime run` for a bundle (before any wrapping). */
export function runArgv(options: {
  runtime: Runtime;
  bundle: string;
  id: string;
  root: string;
  rootless: boolean;
}): string[] {
  return [
    options.runtime.path,
    ...globalArgs(options.runtime, options),
    'run',
    '--bundle',
    options.bundle,
    options.id,
  ];
}

/**
 * `runtime run` in the foreground: the container's stdio is the caller's, signals are forwarded
 * (the runtime passes them to the container), and the result is the container's exit status.
 */
export async function runContainer(options: RunContainerOptions): Promise<ExitStatus> {
  const opts = parseOptions(RunContainerOptionsSchema, options, 'run options');
  const runtime = opts.runtime as Runtime;
  const argv = runArgv({ ...opts, runtime });
  const [file, ...args] = opts.wrap ? opts.wrap(argv) : argv;
  if (file === undefined)
    throw new RuntimeError('ERR_RUNTIME_SPAWN', 'empty command line from wrap()');
  return runForeground(file, args, { signals: opts.signals, env: opts.env });
}
