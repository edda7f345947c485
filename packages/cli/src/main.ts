import { createRequire } from 'node:module';
import yargs, { type CommandModule, type Options } from 'yargs';
import { type CommandNode, commandTree } from './command-tree.js';
import { actionCommand } from './commands/action.js';
import { cacheCommand } from './commands/cache.js';
import { completionCommand } from './commands/completion.js';
import { ociCommand, splitOciArgs } from './commands/oci/index.js';
import { pullCommand } from './commands/pull.js';
import { CliError } from './errors.js';
import { splitAtImage } from './options/flags.js';
import { BERTH_FAILURE, defaultIo, type Io, renderError } from './render.js';

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../package.json') as { version: string }).version;

/** What `berth --help` says first, and its closing lines. */
export const DESCRIPTION = 'berth: run OCI containers without a daemon and without root';
export const EPILOG =
  'Images: docker://[HOST/]NAME[:TAG|@DIGEST], oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE, or a path.\nEach command has its own --help; the README of @berth-oci/cli has the details.';

/**
 * The options of every command. `-v` is `--verbose`, as in SingularityCE (where `-v` is not the
 * version either): run/exec/shell then say where each setting came from. The libraries' traces
 * need NODE_DEBUG=berth:* in the environment, since Node reads it only at its start.
 */
export const GLOBAL_FLAGS = {
  debug: { type: 'boolean', description: 'show stacks and causes of errors' },
  verbose: {
    alias: 'v',
    type: 'boolean',
    description:
      "print more: where each setting of run/exec/shell came from (NODE_DEBUG=berth:* adds the libraries' traces)",
  },
} as const satisfies Record<string, Options>;

/** The top-level commands, in `--help` order. */
export function commands(io: Io, setExit: (code: number) => void): CommandModule[] {
  const list: CommandModule[] = [
    actionCommand('run', io, setExit) as unknown as CommandModule,
    actionCommand('exec', io, setExit) as unknown as CommandModule,
    actionCommand('shell', io, setExit) as unknown as CommandModule,
    ociCommand(io, setExit),
    pullCommand(io, setExit) as unknown as CommandModule,
    cacheCommand(io, setExit) as unknown as CommandModule,
    {
      command: 'version',
      describe: 'print the version of berth (as --version does)',
      handler: () => {
        io.stdout.write(`${VERSION}\n`);
      },
    },
    completionCommand(
      io,
      () => commandTree(list, GLOBAL_FLAGS, { description: DESCRIPTION, epilog: EPILOG }),
      VERSION,
    ) as unknown as CommandModule,
  ];
  return list;
}

/** berth's command tree (for completion scripts and man pages). */
export const berthTree = (): CommandNode =>
  commandTree(
    commands(defaultIo(), () => {}),
    GLOBAL_FLAGS,
    {
      description: DESCRIPTION,
      epilog: EPILOG,
    },
  );

const GLOBAL_SPELLINGS = ['--debug', '--verbose', '-v'];

/**
 * `--` ends the options: only operands follow. run/exec/shell and `oci exec` hand what follows
 * to the container. Every other command takes operands yargs must see as its positionals
 * (`oci start -- ID`, `cache clean -- IMAGE`): the `--` is dropped, and an operand that looks
 * like an option is refused, since no container id, image, signal or shell name berth takes
 * starts with `-` (yargs would otherwise leave them aside and run the command without them).
 */
export function operandsAfterDashDash(argv: string[]): string[] {
  const end = argv.indexOf('--');
  if (end < 0) return argv;
  const words = argv.slice(0, end).filter((a) => !a.startsWith('-'));
  const command = ['oci', 'cache'].includes(words[0] ?? '')
    ? words.slice(0, 2).join(' ')
    : (words[0] ?? '');
  if (['run', 'exec', 'shell', 'oci exec'].includes(command)) return argv;
  const operands = argv.slice(end + 1);
  const bad = operands.find((a) => a.startsWith('-') && a !== '-');
  if (bad !== undefined) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `"${bad}" after "--" is not an operand of berth ${command || 'itself'}`,
      {
        hint: 'options go before "--"; no container id, image, signal or shell name starts with "-"',
      },
    );
  }
  return [...argv.slice(0, end), ...operands];
}

/**
 * The berth command line. Returns the exit status instead of exiting, so it can be tested
 * in-process: the container's status for run/exec/shell, 0 for help, 255 for berth's own errors
 * (usage errors included).
 */
export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  let exitCode = 0;
  let failed: unknown;
  let usage = false;
  const debug = argv.includes('--debug');
  // Global flags may come first (`berth -v exec IMG sh -c ...`, as with singularity): the
  // command's own arguments start after them.
  let lead = 0;
  while (lead < argv.length && GLOBAL_SPELLINGS.includes(argv[lead] as string)) lead++;
  let args: string[];
  try {
    args = [
      ...argv.slice(0, lead),
      ...splitAtImage(splitOciArgs(operandsAfterDashDash(argv.slice(lead)))),
    ];
  } catch (e) {
    renderError(io, e, false);
    return BERTH_FAILURE;
  }
  const setExit = (code: number) => {
    exitCode = code;
  };
  const parser = yargs()
    .scriptName('berth')
    .usage(`${DESCRIPTION}\n\nUsage: berth <command> [options]`)
    .command(commands(io, setExit))
    .options(GLOBAL_FLAGS)
    .demandCommand(1, 'name a command: run, exec, shell, oci, pull, cache, version or completion')
    .strict()
    .exitProcess(false)
    .version(VERSION)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err !== undefined && err !== null && err === failed) return; // the guard's rethrow
      usage = err === undefined || err === null;
      // yargs may report several failures; the last is the most specific one
      failed = err ?? new CliError('ERR_CLI_USAGE', msg, { hint: 'see berth --help' });
    })
    // yargs goes on to the command's handler after a failed check: stop it there (a missing id
    // let `oci create -b B` create a container named "undefined")
    .middleware(() => {
      if (failed !== undefined) throw failed;
    }, false)
    .showHelpOnFail(false);
  parser.epilogue(EPILOG);
  try {
    await parser.parseAsync(args, {}, (_err, _parsed, output) => {
      if (output) io.stdout.write(`${output}\n`);
    });
  } catch (e) {
    failed ??= e;
  }
  if (failed !== undefined) {
    renderError(io, failed, debug && !usage); // yargs' own usage errors have no stack to show
    return BERTH_FAILURE;
  }
  return exitCode;
}
