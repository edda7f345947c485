import path from 'node:path';
import { parseOptions } from '@berth-oci/errors';
import * as v from 'valibot';

export const ConmonArgsOptionsSchema = v.object({
  /** Container id. */
  id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)),
  /** conmon's --cuuid (any unique string; a UUID). */
  uuid: v.string(),
  /** Absolute path of the runtime binary (conmon does no PATH lookup). */
  runtimePath: v.pipe(v.string(), v.startsWith('/')),
  /** Global runtime flags, e.g. ['--root', R]; each goes through --runtime-arg. */
  runtimeArgs: v.optional(v.array(v.string()), []),
  /** Absolute bundle path; the attach socket is <bundle>/attach (--full-attach). */
  bundle: v.pipe(v.string(), v.startsWith('/')),
  /** Directory for pid, exit and log files of this container. */
  stateDir: v.pipe(v.string(), v.startsWith('/')),
  /** Container log: `k8s-file:PATH`, `journald`, `none`, ... (default k8s-file in stateDir). */
  logPath: v.optional(v.string()),
  /** `-t` (terminal) or `-i` (stdin pipe); never both. */
  stdio: v.optional(v.picklist(['terminal', 'stdin', 'none']), 'none'),
  /** Run after the container exits: the program (absolute) and its arguments. */
  exitCommand: v.optional(v.array(v.string())),
});
export type ConmonArgsOptions = v.InferInput<typeof ConmonArgsOptionsSchema>;

/** The files conmon and the runtime write for a container, all in its state directory. */
export interface ConmonFiles {
  /** The container's init pid (written by the runtime). */
  containerPid: string;
  /** The daemonized conmon's pid. */
  conmonPid: string;
  /** The runtime's own log (`--log`, JSON lines): its error on a failed create. */
  runtimeLog: string;
  /** Default k8s-file log of the container's output. */
  log: string;
  /** Directory of the exit file. */
  exitDir: string;
  /** `<exitDir>/<id>`: the exit status, written when the container exits. */
  exitFile: string;
  persistDir: string;
  /** The pid of the JSON log follower (`--log-format json`), while it runs. */
  logFollowerPid: string;
}

export function conmonFiles(stateDir: string, id: string): ConmonFiles {
  return {
    containerPid: path.join(stateDir, 'container.pid'),
    conmonPid: path.join(stateDir, 'conmon.pid'),
    runtimeLog: path.join(stateDir, 'runtime.log'),
    log: path.join(stateDir, 'container.log'),
    exitDir: path.join(stateDir, 'exits'),
    exitFile: path.join(stateDir, 'exits', id),
    persistDir: path.join(stateDir, 'persist'),
    logFollowerPid: path.join(stateDir, 'log-convert.pid'),
  };
}

/**
 * The conmon 2.1 command line that creates a container (docs/runtime-protocols.md, "conmon's
 * command line"): sync/start fds are passed separately through `_OCI_SYNCPIPE`/`_OCI_STARTPIPE`.
 */
export function conmonArgs(options: ConmonArgsOptions): string[] {
  const o = parseOptions(ConmonArgsOptionsSchema, options, 'conmon options');
  const files = conmonFiles(o.stateDir, o.id);
  const args = [
    '--api-version',
    '1',
    '--cid',
    o.id,
    '--cuuid',
    o.uuid,
    '--name',
    o.id,
    '--runtime',
    o.runtimePath,
    ...o.runtimeArgs.flatMap((a) => ['--runtime-arg', a]),
    '--runtime-arg',
    '--log',
    '--runtime-arg',
    files.runtimeLog,
    '--runtime-arg',
    '--log-format=json',
    '--bundle',
    o.bundle,
    '--full-attach',
    '--container-pidfile',
    files.containerPid,
    '--conmon-pidfile',
    files.conmonPid,
    '--log-path',
    o.logPath ?? `k8s-file:${files.log}`,
    '--exit-dir',
    files.exitDir,
    '--persist-dir',
    files.persistDir,
  ];
  if (o.exitCommand && o.exitCommand.length > 0) {
    const [program, ...rest] = o.exitCommand as [string, ...string[]];
    args.push('--exit-command', program, ...rest.flatMap((a) => ['--exit-command-arg', a]));
  }
  if (o.stdio === 'terminal') args.push('--terminal');
  if (o.stdio === 'stdin') args.push('--stdin');
  return args;
}
