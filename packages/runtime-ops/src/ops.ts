import { constants } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { RuntimeError } from './errors.js';
import type { Runtime } from './find.js';
import { globalArgs } from './host.js';
import { type ExitStatus, runForeground } from './run.js';
import { type ContainerState, parseState, runtimeErrorMessage } from './state.js';

/**
 * How to call the runtime for one container: the binary, its state root (`--root`), whether it
 * runs rootless (in a user namespace), and the argv prefix that enters the right namespaces
 * first (`nsenterPrefix(holder)`, `cgroupMaskPrefix()`, or none).
 */
export interface RuntimeContext {
  runtime: Runtime;
  root: string;
  rootless: boolean;
  prefix?: string[];
  /** Environment of the runtime processes (default: process.env). */
  env?: Record<string, string | undefined>;
}

/** `[...prefix, runtime, --root R, (--cgroup-manager=disabled), ...args]`. */
export function runtimeArgv(ctx: RuntimeContext, args: string[]): string[] {
  return [...(ctx.prefix ?? []), ctx.runtime.path, ...globalArgs(ctx.runtime, ctx), ...args];
}

/** The highest signal number Linux has (SIGRTMAX). */
const MAX_SIGNAL = 64;

/**
 * A signal as the runtimes take it, checked: a name with or without `SIG` in any case
 * (`term`, `SIGKILL`) gives the `SIG` name, a number 1-64 gives the number. Anything else is
 * refused (ERR_INVALID_OPTIONS): a runtime may send nothing for a name it does not know, and
 * say nothing about it.
 */
export function parseSignal(signal: string): string {
  const s = signal.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= MAX_SIGNAL) return String(n);
  } else if (/^[A-Za-z][A-Za-z0-9]*$/.test(s)) {
    const upper = s.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (Object.hasOwn(constants.signals, name)) return name;
  }
  throw new RuntimeError(
    'ERR_INVALID_OPTIONS',
    s === '' ? 'the signal is empty' : `"${signal}" is not a signal`,
    { hint: `name one as TERM, SIGTERM or a number from 1 to ${MAX_SIGNAL} (see kill -l)` },
  );
}

/** The `kill` signal berth passes on: SIGKILL with force, else the argument (checked) or SIGTERM. */
export function killSignal(options: { signal?: string; force?: boolean }): string {
  if (options.force) return 'SIGKILL';
  return options.signal === undefined ? 'SIGTERM' : parseSignal(options.signal);
}

/** The argv of each runtime operation (after the global flags). Pure, for tests and callers. */
export const opArgs = {
  start: (id: string) => ['start', id],
  state: (id: string) => ['state', id],
  kill: (id: string, signal: string) => ['kill', id, signal],
  delete: (id: string, force = false) => (force ? ['delete', '--force', id] : ['delete', id]),
  pause: (id: string) => ['pause', id],
  resume: (id: string) => ['resume', id],
  /** `-` reads the resources from stdin; other paths are made absolute (nsenter changes cwd). */
  update: (id: string, resources: string) => [
    'update',
    '--resources',
    resources === '-' ? '-' : path.resolve(resources),
    id,
  ],
  exec: (id: string, command: string[], options: { tty?: boolean } = {}) => [
    'exec',
    ...(options.tty ? ['--tty'] : []),
    id,
    ...command,
  ],
};

export type RuntimeOp = 'start' | 'state' | 'kill' | 'delete' | 'pause' | 'resume' | 'update';

/**
 * The runtime does not know the container: runc says `container does not exist`, crun fails to
 * open `<root>/<id>/status` or `<root>/<id>`.
 */
export function isUnknownContainer(message: string, id: string): boolean {
  if (/container does not exist/i.test(message)) return true;
  return (
    /No such file or directory/.test(message) &&
    (message.includes(`/${id}/`) || message.includes(`/${id}'`) || message.includes(`/${id}\``))
  );
}

/**
 * Runs one runtime operation for container `id`, capturing its output. A failure throws
 * ERR_RUNTIME_NO_CONTAINER (the runtime does not know the id) or ERR_RUNTIME_OP naming the
 * container, the operation and the runtime's own message.
 */
export async function runtimeOp(
  ctx: RuntimeContext,
  op: RuntimeOp,
  id: string,
  args: string[],
  options: { stdin?: 'inherit' | 'ignore' } = {},
): Promise<{ stdout: string; stderr: string }> {
  const [file, ...rest] = runtimeArgv(ctx, args) as [string, ...string[]];
  const result = await execa(file, rest, {
    reject: false,
    stdin: options.stdin ?? 'ignore',
    env: ctx.env as NodeJS.ProcessEnv | undefined,
    extendEnv: ctx.env === undefined,
  });
  if (result.exitCode === 0) return { stdout: result.stdout, stderr: result.stderr };
  if (result.exitCode === undefined) {
    throw new RuntimeError('ERR_RUNTIME_SPAWN', `cannot run "${file}": ${result.shortMessage}`, {
      hint: 'check that the program exists and is executable',
      cause: result,
    });
  }
  const message = runtimeErrorMessage(result.stderr) || `exit status ${result.exitCode}`;
  if (isUnknownContainer(message, id)) {
    throw new RuntimeError(
      'ERR_RUNTIME_NO_CONTAINER',
      `the runtime has no container "${id}": ${message}`,
      { hint: 'berth oci list shows the containers' },
    );
  }
  throw new RuntimeError(
    'ERR_RUNTIME_OP',
    `${ctx.runtime.name} ${op} of container "${id}" failed: ${message}`,
    { hint: hintFor(op, ctx, message), cause: result },
  );
}

function hintFor(op: RuntimeOp, ctx: RuntimeContext, message: string): string | undefined {
  if ((op === 'pause' || op === 'resume') && /cgroup/i.test(message)) {
    return ctx.rootless
      ? 'pausing needs a cgroup freezer, which rootless containers do not get on this host'
      : 'pausing needs the cgroup freezer';
  }
  if (op === 'update') return 'the resources file must be runtime-spec linux.resources JSON';
  return undefined;
}

/** `runtime state ID`, parsed and validated. */
export async function containerState(ctx: RuntimeContext, id: string): Promise<ContainerState> {
  const { stdout } = await runtimeOp(ctx, 'state', id, opArgs.state(id));
  return parseState(stdout, id);
}

export const startContainer = (ctx: RuntimeContext, id: string) =>
  runtimeOp(ctx, 'start', id, opArgs.start(id)).then(() => undefined);

export const killContainer = (ctx: RuntimeContext, id: string, signal = 'SIGTERM') =>
  runtimeOp(ctx, 'kill', id, opArgs.kill(id, signal)).then(() => undefined);

export const deleteContainer = (
  ctx: RuntimeContext,
  id: string,
  options: { force?: boolean } = {},
) => runtimeOp(ctx, 'delete', id, opArgs.delete(id, options.force)).then(() => undefined);

export const pauseContainer = (ctx: RuntimeContext, id: string) =>
  runtimeOp(ctx, 'pause', id, opArgs.pause(id)).then(() => undefined);

export const resumeContainer = (ctx: RuntimeContext, id: string) =>
  runtimeOp(ctx, 'resume', id, opArgs.resume(id)).then(() => undefined);

/** `runtime update --resources FILE ID`; `-` reads the JSON from this process's stdin. */
export const updateContainer = (ctx: RuntimeContext, id: string, resources: string) =>
  runtimeOp(ctx, 'update', id, opArgs.update(id, resources), {
    stdin: resources === '-' ? 'inherit' : 'ignore',
  }).then(() => undefined);

/**
 * `runtime exec ID COMMAND...` in the foreground with the caller's stdio and signals passed on;
 * the result is the command's exit status (128+n for a signal).
 */
export function execInContainer(
  ctx: RuntimeContext,
  id: string,
  command: string[],
  options: { tty?: boolean; signals?: string[] } = {},
): Promise<ExitStatus> {
  const [file, ...args] = runtimeArgv(ctx, opArgs.exec(id, command, options)) as [
    string,
    ...string[],
  ];
  return runForeground(file, args, { env: ctx.env, signals: options.signals });
}

/** Polls the state until `accept` holds or `timeoutMs` passes; returns the last state. */
export async function waitForState(
  ctx: RuntimeContext,
  id: string,
  accept: (state: ContainerState) => boolean,
  timeoutMs = 5000,
): Promise<ContainerState> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const state = await containerState(ctx, id);
    if (accept(state) || Date.now() > end) return state;
    await new Promise((r) => setTimeout(r, 50));
  }
}
