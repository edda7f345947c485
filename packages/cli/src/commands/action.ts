import {
  describeSiteConfig,
  dryRun,
  LAUNCH_OPTION_TABLE,
  type LaunchOptions,
  LaunchOptionsSchema,
  type LaunchProgress,
  loadSiteConfig,
  REFUSED_FLAGS,
} from '@berth-oci/launcher';
import type { Argv, CommandModule } from 'yargs';
import { checkFlagValues } from '../options/check.js';
import { ACTION_FLAGS, ENV_HELP, IMAGE_REFERENCE_HELP, yargsOptions } from '../options/flags.js';
import { resolveOptions } from '../options/values.js';
import { createProgress } from '../progress.js';
import { type Io, renderSources, warn } from '../render.js';
import { launchWithSignals } from '../signals.js';

type Action = 'run' | 'exec' | 'shell';

export interface ActionArgs {
  image: string;
  args?: string[];
  '--'?: string[];
  [option: string]: unknown;
}

/** The launcher options of a parsed run/exec/shell command line and the environment (not checked yet). */
export function launchOptions(action: Action, argv: ActionArgs, io: Io): LaunchOptions {
  return launchSettings(action, argv, io).options;
}

/** `launchOptions`, and where each setting came from (the command line or a variable). */
function launchSettings(action: Action, argv: ActionArgs, io: Io) {
  const quiet = argv.quiet === true;
  const { options, sources } = resolveOptions(LAUNCH_OPTION_TABLE, argv, io.env);
  const launch: LaunchOptions = {
    image: argv.image,
    action,
    args: [...(argv.args ?? []), ...(argv['--'] ?? [])].map(String),
    ...options,
    hostEnv: io.env,
    onWarning: quiet ? undefined : (m) => warn(io, m),
    onInfo: quiet ? undefined : (m) => io.stderr.write(`berth: info: ${m}\n`),
  };
  return { options: launch, sources };
}

function actionOptions(y: Argv): Argv<ActionArgs> {
  return y.options(yargsOptions(ACTION_FLAGS, true)).parserConfiguration({
    'populate--': true,
    'boolean-negation': false,
  }) as unknown as Argv<ActionArgs>;
}

/** Download and unpack progress: bars on a terminal, one line per layer otherwise. */
function progressPrinter(io: Io, quiet: boolean): ((e: LaunchProgress) => void) | undefined {
  return createProgress(io, { quiet }).onProgress;
}

/** Builds one of run/exec/shell; `setExit` receives the container's status. */
export function actionCommand(
  action: Action,
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
          description: IMAGE_REFERENCE_HELP,
        })
        .usage(`berth ${usage}\n\n${describe}`)
        .example(
          action === 'exec'
            ? [['berth exec oci:./layout id -u', 'your uid inside the container']]
            : action === 'run'
              ? [['berth run -B /data oci:./layout', 'its default command, /data bound']]
              : [['berth shell -f oci:./layout', 'a shell as root (--fakeroot)']],
        )
        .epilog(
          [
            "Exit status: the container's, or 128+signal when a signal ended it; 255 when berth itself fails.",
            `Refused as SingularityCE refuses them in OCI mode: ${REFUSED_FLAGS.join(', ')}.`,
            'Cgroup limits need root (rootless cgroups need cgroups v2 with delegation).',
            ENV_HELP,
          ].join('\n'),
        ) as Argv<ActionArgs>,
    handler: async (argv) => {
      setExit(await runAction(action, argv, io));
    },
  };
}

/**
 * Runs one of run/exec/shell from parsed arguments (from yargs, or from the fast path of
 * `parseActionArgv`) and returns the exit status; berth's own errors are thrown.
 */
export async function runAction(action: Action, argv: ActionArgs, io: Io): Promise<number> {
  const quiet = argv.quiet === true;
  const { options, sources } = launchSettings(action, argv, io);
  checkFlagValues(
    LaunchOptionsSchema,
    options,
    LAUNCH_OPTION_TABLE,
    `see berth ${action} --help`,
    sources,
  );
  if (argv['dry-run'] === true) {
    const spec = await dryRun(options);
    io.stdout.write(`${JSON.stringify(spec, null, 2)}\n`);
    if (!quiet) {
      const site = await loadSiteConfig(options.siteConfig, process.geteuid?.() ?? 0);
      renderSources(io, sources, describeSiteConfig(site.config));
    }
    return 0;
  }
  if (argv.verbose === true && !quiet) renderSources(io, sources); // -v: where each setting came from
  const status = await launchWithSignals({
    ...options,
    onProgress: progressPrinter(io, quiet),
  });
  return status.exitCode;
}
