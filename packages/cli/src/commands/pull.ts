import { type PullOptions, PullOptionsSchema, pull } from '@berth-oci/launcher';
import type { Argv, CommandModule } from 'yargs';
import { checkFlagValues } from '../options/check.js';
import {
  IMAGE_REFERENCE_HELP,
  PULL_FLAGS,
  PULL_OPTION_FLAGS,
  yargsOptions,
} from '../options/flags.js';
import { optionValues } from '../options/values.js';
import { createProgress } from '../progress.js';
import { type Io, warn } from '../render.js';

interface PullArgs {
  image: string;
  [option: string]: unknown;
}

/** `berth pull IMAGE`: fetch and unpack an image into the cache, with progress. */
export function pullCommand(
  io: Io,
  setExit: (code: number) => void,
): CommandModule<object, PullArgs> {
  return {
    command: 'pull <image>',
    describe: 'fetch an image and unpack it into the cache, so that launches start at once',
    builder: (y) =>
      (y as Argv)
        .options(yargsOptions(PULL_FLAGS, true))
        .parserConfiguration({ 'boolean-negation': false })
        .positional('image', { type: 'string', description: IMAGE_REFERENCE_HELP })
        .usage('berth pull [options] IMAGE\n\nfetch an image and unpack it into the cache')
        .example([
          ['berth pull docker://alpine:3.20', 'Docker Hub: docker.io/library/alpine:3.20'],
          [
            'berth pull --platform linux/arm64 docker://nginx',
            'the arm64 image of a multi-platform one',
          ],
        ])
        .epilog(
          'Prints the manifest digest on stdout. Progress goes to stderr: bars on a terminal, one line per layer otherwise.',
        ) as unknown as Argv<PullArgs>,
    handler: async (argv) => {
      const quiet = argv.quiet === true;
      const options: PullOptions = {
        ...optionValues(PULL_OPTION_FLAGS, argv, io.env),
        image: String(argv.image),
        hostEnv: io.env,
        onWarning: quiet ? undefined : (m) => warn(io, m),
      };
      checkFlagValues(PullOptionsSchema, options, PULL_OPTION_FLAGS, 'see berth pull --help');
      const display = createProgress(io, { quiet });
      try {
        const result = await pull({ ...options, onProgress: display.onProgress });
        display.finish();
        if (!quiet) {
          io.stderr.write(
            `berth: pulled ${result.image}${result.platform ? ` (${result.platform})` : ''}\n`,
          );
        }
        io.stdout.write(`${result.manifestDigest}\n`);
      } finally {
        display.finish();
      }
      setExit(0);
    },
  };
}
