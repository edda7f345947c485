import { createRequire } from 'node:module';
import yargs from 'yargs';
import { actionCommand } from './commands/action.js';
import { cacheCommand } from './commands/cache.js';
import { ociCommand, splitOciArgs } from './commands/oci/index.js';
import { pullCommand } from './commands/pull.js';
import { CliError } from './errors.js';
import { splitAtImage } from './options/flags.js';
import { BERTH_FAILURE, defaultIo, type Io, renderError } from './render.js';

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../package.json') as { version: string }).version;

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
  const setExit = (code: number) => {
    exitCode = code;
  };
  const parser = yargs()
    .scriptName('berth')
    .usage(
      'berth: run OCI containers without a daemon and without root\n\nUsage: berth <command> [options]',
    )
    .command(actionCommand('run', io, setExit))
    .command(actionCommand('exec', io, setExit))
    .command(actionCommand('shell', io, setExit))
    .command(ociCommand(io, setExit))
    .command(pullCommand(io, setExit))
    .command(cacheCommand(io, setExit))
    .command({
      command: 'version',
      describe: 'print the version of berth (as --version does)',
      handler: () => {
        io.stdout.write(`${VERSION}\n`);
      },
    })
    .option('debug', { type: 'boolean', description: 'show stacks and causes of errors' })
    .demandCommand(1, 'name a command: run, exec, shell, oci, pull, cache or version')
    .strict()
    .exitProcess(false)
    .version(VERSION)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      usage = err === undefined || err === null;
      failed = err ?? new CliError('ERR_CLI_USAGE', msg, { hint: 'see berth --help' });
    })
    .showHelpOnFail(false);
  parser.epilogue(
    'Images: docker://[HOST/]NAME[:TAG|@DIGEST], oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE, or a path.\nEach command has its own --help; the README of @berth-oci/cli has the details.',
  );
  try {
    await parser.parseAsync(splitAtImage(splitOciArgs(argv)), {}, (_err, _parsed, output) => {
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
