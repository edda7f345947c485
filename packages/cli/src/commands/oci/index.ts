import { prepareBundle, removeBundle } from '@berth-oci/launcher';
import {
  containerState,
  killContainer,
  killSignal,
  type OciState,
  pauseContainer,
  RuntimeError,
  resumeContainer,
  startContainer,
  toOciState,
  updateContainer,
} from '@berth-oci/runtime-ops';
import type { Argv, CommandModule } from 'yargs';
import { type Io, warn } from '../../render.js';
import {
  type CreateArgs,
  createOciContainer,
  deleteOciContainer,
  loadContainer,
  logFormatOf,
  openStore,
  requireStatus,
} from './common.js';
import {
  BUNDLE,
  CREATE_FLAGS,
  checkedValue,
  DELETE_FORCE,
  DETACH_KEYS,
  FROM_FILE,
  JSON_OUT,
  KILL_FORCE,
  LOG_FORMAT,
  ociValues,
  ociYargs,
  QUIET,
  required,
  SIGNAL,
  TTY,
} from './flags.js';
import { ociAttach, ociExec, ociRun } from './interactive.js';

type Args = Record<string, unknown> & { '--'?: string[] };
type Handler = (argv: Args) => Promise<number | undefined>;

const str = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : String(v);

const ID = {
  describe: 'the container id',
  type: 'string',
  demandOption: true,
} as const;

/**
 * `--` goes after the id of `oci exec ID COMMAND...`, so that what follows belongs to the
 * container command even when it looks like an option (`sh -c 'exit 7'`).
 */
export function splitOciArgs(argv: string[]): string[] {
  const oci = argv.indexOf('oci');
  if (oci < 0 || argv.slice(0, oci).some((a) => !a.startsWith('-'))) return argv;
  if (argv[oci + 1] !== 'exec') return argv;
  for (let i = oci + 2; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return argv;
    if (a.startsWith('-') && a !== '-') continue;
    if (argv[i + 1] === '--') return argv;
    return [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)];
  }
  return argv;
}

/** The arguments of `oci create`/`oci run`, from the command line and the variables. */
function createArgs(a: Args, command: string, env: Record<string, string | undefined>): CreateArgs {
  const o = ociValues(CREATE_FLAGS, a, env);
  return {
    id: String(a.id),
    bundle: required(o, BUNDLE, command),
    runtime: str(o.runtime),
    logPath: str(o['log-path']),
    logFormat: checkedValue(LOG_FORMAT, a, env, logFormatOf),
    pidFile: str(o['pid-file']),
  };
}

/** `berth oci ...`: the bundle commands. `setExit` receives exec/run/attach statuses. */
export function ociCommand(io: Io, setExit: (code: number) => void): CommandModule {
  const sub = (
    command: string,
    describe: string,
    builder: (y: Argv) => Argv,
    handler: Handler,
  ): CommandModule => ({
    command,
    describe,
    builder: (y) => builder(y),
    handler: async (argv) => {
      const code = await handler(argv as Args);
      if (code !== undefined) setExit(code);
    },
  });
  /** A verb on one container in one of `statuses`: start, pause, resume. */
  const simple = (
    verb: string,
    describe: string,
    statuses: Parameters<typeof requireStatus>[1],
    op: (ctx: Awaited<ReturnType<typeof loadContainer>>['ctx'], id: string) => Promise<unknown>,
  ) =>
    sub(
      `${verb} <id>`,
      describe,
      (y) => y.positional('id', ID),
      async (a) => {
        const loaded = await loadContainer(io, String(a.id));
        await requireStatus(loaded, statuses, verb);
        await op(loaded.ctx, loaded.record.id);
        return 0;
      },
    );

  const state = async (id: string): Promise<OciState> => {
    const loaded = await loadContainer(io, id);
    const s = await containerState(loaded.ctx, id);
    return toOciState(s, { runtime: loaded.record.runtime.name });
  };

  const commands: CommandModule[] = [
    sub(
      'create <id>',
      'create a container from a bundle (under conmon; start it with oci start)',
      (y) => y.positional('id', ID).options(ociYargs(CREATE_FLAGS)),
      async (a) => {
        const { conmon } = await createOciContainer(io, createArgs(a, 'oci create', io.env));
        conmon.release();
        return 0;
      },
    ),
    simple('start', 'start a created container', ['created'], startContainer),
    sub(
      'state <id>',
      "print a container's state (OCI runtime-spec state JSON)",
      (y) => y.positional('id', ID),
      async (a) => {
        io.stdout.write(`${JSON.stringify(await state(String(a.id)), null, 2)}\n`);
        return 0;
      },
    ),
    sub(
      'kill <id> [sig]',
      'send a signal to a container (default SIGTERM)',
      (y) =>
        y
          .positional('id', ID)
          .positional('sig', { type: 'string', describe: 'signal name or number (as --signal)' })
          .options(ociYargs([SIGNAL, KILL_FORCE])),
      async (a) => {
        const o = ociValues([SIGNAL, KILL_FORCE], a, io.env);
        const loaded = await loadContainer(io, String(a.id));
        // an explicit '' is refused, not taken for the default
        const signal = killSignal({ signal: str(a.sig) ?? str(o.signal), force: o.force === true });
        await requireStatus(loaded, ['created', 'running', 'paused'], 'kill');
        await killContainer(loaded.ctx, loaded.record.id, signal);
        return 0;
      },
    ),
    sub(
      'delete <id>',
      "delete a stopped container and all berth's state for it",
      (y) => y.positional('id', ID).options(ociYargs([DELETE_FORCE])),
      async (a) => {
        const o = ociValues([DELETE_FORCE], a, io.env);
        const loaded = await loadContainer(io, String(a.id));
        await deleteOciContainer(loaded, { force: o.force === true });
        return 0;
      },
    ),
    sub(
      'attach <id>',
      "attach the terminal to a container's input and output",
      (y) => y.positional('id', ID).options(ociYargs([DETACH_KEYS])),
      (a) =>
        ociAttach(io, {
          id: String(a.id),
          detachKeys: str(ociValues([DETACH_KEYS], a, io.env)['detach-keys']),
        }),
    ),
    sub(
      'exec <id> [command..]',
      'run a command in a running container; exits with its status',
      (y) =>
        y
          .positional('id', ID)
          .positional('command', { type: 'string', array: true, describe: 'command and arguments' })
          .options(ociYargs([TTY]))
          .parserConfiguration({ 'populate--': true }),
      async (a) => {
        const command = [...((a.command as string[] | undefined) ?? []), ...(a['--'] ?? [])].map(
          String,
        );
        if (command.length === 0) {
          throw new RuntimeError('ERR_RUNTIME_OP', 'oci exec needs a command to run', {
            hint: `berth oci exec ${String(a.id)} COMMAND [ARGS...]`,
          });
        }
        const tty = ociValues([TTY], a, io.env).tty === true;
        return ociExec(io, { id: String(a.id), command, tty });
      },
    ),
    sub(
      'run <id>',
      'create, attach, start and delete a container; exits with its status',
      (y) => y.positional('id', ID).options(ociYargs([...CREATE_FLAGS, DETACH_KEYS])),
      (a) =>
        ociRun(io, {
          ...createArgs(a, 'oci run', io.env),
          detachKeys: str(ociValues([DETACH_KEYS], a, io.env)['detach-keys']),
        }),
    ),
    sub(
      'update <id>',
      "update a container's cgroup resources",
      (y) => y.positional('id', ID).options(ociYargs([FROM_FILE])),
      async (a) => {
        const file = required(ociValues([FROM_FILE], a, io.env), FROM_FILE, 'oci update');
        const loaded = await loadContainer(io, String(a.id));
        await requireStatus(loaded, ['created', 'running', 'paused'], 'update');
        await updateContainer(loaded.ctx, loaded.record.id, file);
        return 0;
      },
    ),
    simple(
      'pause',
      'freeze all processes of a running container (needs the cgroup freezer)',
      ['running'],
      pauseContainer,
    ),
    simple('resume', 'thaw a paused container', ['paused'], resumeContainer),
    sub(
      'list',
      'list your containers',
      (y) => y.options(ociYargs([JSON_OUT])),
      async (a) => {
        const json = ociValues([JSON_OUT], a, io.env).json === true;
        const store = await openStore(io);
        const states: OciState[] = [];
        for (const id of await store.ids()) {
          try {
            states.push(await state(id));
          } catch (e) {
            warn(io, `container "${id}": ${(e as Error).message}`);
          }
        }
        if (json) io.stdout.write(`${JSON.stringify(states, null, 2)}\n`);
        else io.stdout.write(formatTable(states));
        return 0;
      },
    ),
    sub(
      'mount <image> <bundle>',
      'make a runnable bundle (rootfs and config.json) from an image',
      (y) =>
        y
          .positional('image', { type: 'string', describe: 'image reference', demandOption: true })
          .positional('bundle', {
            type: 'string',
            describe: 'new bundle directory',
            demandOption: true,
          })
          .options(ociYargs([QUIET])),
      async (a) => {
        const quiet = ociValues([QUIET], a, io.env).quiet === true;
        await prepareBundle({
          image: String(a.image),
          bundle: String(a.bundle),
          onWarning: quiet ? undefined : (m) => warn(io, m),
          onProgress:
            quiet || !io.stderr.isTTY
              ? undefined
              : (e) => {
                  if (e.phase === 'unpack-start')
                    io.stderr.write(`berth: unpacking ${e.image} (${e.layers} layers)...\n`);
                },
        });
        return 0;
      },
    ),
    sub(
      'umount <bundle>',
      'remove a bundle made by oci mount',
      (y) => y.positional('bundle', { type: 'string', describe: 'the bundle', demandOption: true }),
      async (a) => {
        await removeBundle({ bundle: String(a.bundle) });
        return 0;
      },
    ),
  ];

  return {
    command: 'oci <command>',
    describe: 'manage containers from OCI bundles (create, start, attach, exec, ...)',
    builder: (y) => {
      let out = y;
      for (const c of commands) out = out.command(c);
      return out
        .demandCommand(1, 'name an oci command')
        .usage('berth oci <command>\n\nManage containers from OCI bundle directories.')
        .epilog(
          'Works as root and as an ordinary user. Errors exit 255; exec, run and attach exit with the container status. Each option can also be set by its variable ([env: BERTH_<FLAG>]; SINGULARITY_ and APPTAINER_ forms where upstream has them: BUNDLE, LOG_PATH, LOG_FORMAT, PID_FILE, SIGNAL, FORCE of kill, FROM_FILE); the command line wins.',
        );
    },
    handler: () => {},
  };
}

/** The table of `oci list`: ID, PID, STATUS, BUNDLE, CREATED, RUNTIME. */
export function formatTable(states: OciState[]): string {
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'RUNTIME']];
  for (const s of states) {
    rows.push([s.id, String(s.pid), s.status, s.bundle, s.created ?? '', s.runtime ?? '']);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}
