import { parseOptions } from '@berth/errors';
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
});
export type ConmonArgsOptions = v.InferInput<typeof ConmonArgsOptionsSchema>;

/**
 * The conmon 2.1 command line that creates a container (reference conmon-runtime §2 and §3.4):
 * sync/start fds are passed separately through `_OCI_SYNCPIPE`/`_OCI_STARTPIPE`.
 */
export function conmonArgs(options: ConmonArgsOptions): string[] {
  const o = parseOptions(ConmonArgsOptionsSchema, options, 'conmon options');
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
    `${o.stateDir}/runtime.log`,
    '--runtime-arg',
    '--log-format=json',
    '--bundle',
    o.bundle,
    '--full-attach',
    '--container-pidfile',
    `${o.stateDir}/container.pid`,
    '--conmon-pidfile',
    `${o.stateDir}/conmon.pid`,
    '--log-path',
    o.logPath ?? `k8s-file:${o.stateDir}/container.log`,
    '--exit-dir',
    `${o.stateDir}/exits`,
    '--persist-dir',
    `${o.stateDir}/persist`,
  ];
  if (o.stdio === 'terminal') args.push('--terminal');
  if (o.stdio === 'stdin') args.push('--stdin');
  return args;
}
