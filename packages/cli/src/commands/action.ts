import { type LaunchProgress, launch } from '@berth/launcher';
import type { Argv, CommandModule } from 'yargs';
import { type Io, warn } from '../render.js';

export interface ActionArgs {
  image: string;
  args?: string[];
  '--'?: string[];
  bind?: string | string[];
  fakeroot?: boolean;
  env?: string | string[];
  cwd?: string;
  runtime?: string;
  quiet?: boolean;
  debug?: boolean;
}

/** Splits repeatable, comma-separated `--env` values into entries (a comma inside a value stays with it when no `=` follows). */
export function splitEnv(values: string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      if (out.length > 0 && !/^[^=]+=/.test(part)) out[out.length - 1] += `,${part}`;
      else out.push(part);
    }
  }
  return out;
}

/** The options of run/exec/shell. `string` options take a value; the rest are flags. */
export const ACTION_OPTIONS = {
  bind: {
    alias: 'B',
    type: 'string',
    description: 'bind a host path: src[:dst[:ro|rw]], repeatable or comma-separated',
  },
  fakeroot: {
    alias: 'f',
    type: 'boolean',
    description: 'run as root (uid 0) inside the container, mapped to you outside',
  },
  env: {
    type: 'string',
    description: 'set container variables: NAME=value[,NAME=value...], repeatable',
  },
  cwd: {
    alias: 'pwd',
    type: 'string',
    description: 'initial working directory inside the container',
  },
  runtime: {
    type: 'string',
    description:
      'OCI runtime: crun, runc or a path (default: $BERTH_RUNTIME, then crun, then runc)',
  },
  quiet: { alias: 'q', type: 'boolean', description: 'print no warnings or progress' },
} as const;

const VALUE_FLAGS = new Set<string>();
for (const [name, o] of Object.entries(ACTION_OPTIONS)) {
  if (o.type !== 'string') continue;
  VALUE_FLAGS.add(name.length === 1 ? `-${name}` : `--${name}`);
  if ('alias' in o) VALUE_FLAGS.add(o.alias.length === 1 ? `-${o.alias}` : `--${o.alias}`);
}

/**
 * Everything after the image belongs to the container command, even what looks like a berth
 * option (`berth exec IMG sh -c 'exit 3'`): inserts `--` after the image so that yargs leaves
 * the rest alone.
 */
export function splitAtImage(argv: string[]): string[] {
  if (!['run', 'exec', 'shell'].includes(argv[0] ?? '')) return argv;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return argv;
    if (a.startsWith('-') && a !== '-') {
      if (a.includes('=')) continue;
      const last = a.startsWith('--') ? a : `-${a.at(-1)}`;
      if (VALUE_FLAGS.has(last)) i++;
      continue;
    }
    return [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)];
  }
  return argv;
}

function asArray(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function actionOptions(y: Argv): Argv<ActionArgs> {
  return y
    .options(ACTION_OPTIONS as never)
    .parserConfiguration({ 'populate--': true }) as unknown as Argv<ActionArgs>;
}

function progressPrinter(io: Io, quiet: boolean): ((e: LaunchProgress) => void) | undefined {
  if (quiet || !io.stderr.isTTY) return undefined;
  return (e) => {
    if (e.phase === 'unpack-start')
      io.stderr.write(`berth: unpacking ${e.image} (${e.layers} layers)...\n`);
    else if (e.phase === 'unpack-done') io.stderr.write(`berth: unpacked ${e.image}\n`);
  };
}

/** Builds one of run/exec/shell; `setExit` receives the container's status. */
export function actionCommand(
  action: 'run' | 'exec' | 'shell',
  io: Io,
  setExit: (code: number) => void,
): CommandModule<object, ActionArgs> {
  const usage = {
    run: 'run [options] IMAGE [ARGS...]',
    exec: 'exec [options] IMAGE COMMAND [ARGS...]',
    shell: 'shell [options] IMAGE',
  }[action];
  const describe = {
    run: "run the image's default command (Entrypoint + Cmd, ARGS replacing Cmd)",
    exec: 'run a command in a container of the image',
    shell: 'start an interactive shell in a container of the image',
  }[action];
  return {
    command: usage
      .replace('[options] ', '')
      .replace('IMAGE', '<image>')
      .replace(/COMMAND \[ARGS\.\.\.\]|\[ARGS\.\.\.\]/, '[args..]'),
    describe,
    builder: (y) =>
      actionOptions(y)
        .positional('image', {
          type: 'string',
          description: 'image reference: oci:DIR[:TAG] (an OCI layout directory)',
        })
        .usage(`berth ${usage}\n\n${describe}`)
        .example(
          action === 'exec'
            ? [[`berth exec oci:./layout:latest id -u`, 'print your uid inside the container']]
            : action === 'run'
              ? [
                  [
                    `berth run -B /data:/data oci:./layout:latest`,
                    'run the default command with /data bound',
                  ],
                ]
              : [
                  [
                    `berth shell --fakeroot oci:./layout:latest`,
                    'a shell as root inside the container',
                  ],
                ],
        )
        .epilog(
          "Exit status: the container's, or 128+signal when a signal ended it; 255 when berth itself fails.",
        ) as Argv<ActionArgs>,
    handler: async (argv) => {
      const quiet = argv.quiet === true;
      const status = await launch({
        image: argv.image,
        action,
        args: [...(argv.args ?? []), ...(argv['--'] ?? [])].map(String),
        binds: asArray(argv.bind),
        fakeroot: argv.fakeroot === true,
        env: splitEnv(asArray(argv.env)),
        cwd: argv.cwd,
        runtime: argv.runtime,
        hostEnv: io.env,
        onWarning: quiet ? undefined : (m) => warn(io, m),
        onProgress: progressPrinter(io, quiet),
      });
      setExit(status.exitCode);
    },
  };
}
