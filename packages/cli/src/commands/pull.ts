import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  cleanImageCache,
  listImageCache,
  type PullOptions,
  PullOptionsSchema,
  pull,
} from '@berth-oci/launcher';
import type { Argv, CommandModule } from 'yargs';
import { CliError } from '../errors.js';
import { writeOciArchive } from '../image-file.js';
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
  uri?: string;
  [option: string]: unknown;
}

/** The tag of a normalised `docker://HOST/REPO[:TAG][@DIGEST]` reference, if it has one. */
export function tagOf(ref: string): string | undefined {
  const name = ref.split('@')[0] as string;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : undefined;
}

/**
 * Where `pull --name FILE` (or upstream's `pull FILE URI`) writes, checked before anything is
 * fetched: only docker:// images (a local one runs as it is), and FILE is not overwritten
 * without --force.
 */
export function pullTarget(argv: PullArgs, cwd: string): { image: string; file?: string } {
  const name = typeof argv.name === 'string' ? argv.name : undefined;
  if (argv.uri !== undefined && name !== undefined) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `pull takes an output file either as --name or before the image, not both (${JSON.stringify(name)} and ${JSON.stringify(argv.image)})`,
      { hint: 'use berth pull --name FILE IMAGE' },
    );
  }
  const image = String(argv.uri ?? argv.image);
  const given = argv.uri !== undefined ? String(argv.image) : name;
  if (given === undefined) return { image };
  if (given === '') {
    throw new CliError('ERR_CLI_USAGE', 'pull --name needs a file name', {
      hint: 'use berth pull --name FILE IMAGE',
    });
  }
  if (!image.startsWith('docker://')) {
    throw new CliError(
      'ERR_CLI_PULL_FILE',
      `pull --name writes images from registries (docker://) only, not ${JSON.stringify(image)}`,
      { hint: 'a local image (oci:, oci-archive:, docker-archive:, a path) runs as it is' },
    );
  }
  const file = path.resolve(cwd, given);
  if (existsSync(file) && argv.force !== true) {
    throw new CliError('ERR_CLI_PULL_FILE', `image file ${JSON.stringify(file)} already exists`, {
      hint: 'remove it, or pass --force to overwrite it',
    });
  }
  return { image, file };
}

/** `berth pull IMAGE`: fetch and unpack an image into the cache, with progress. */
export function pullCommand(
  io: Io,
  setExit: (code: number) => void,
): CommandModule<object, PullArgs> {
  return {
    command: 'pull <image> [uri]',
    describe: 'fetch an image and unpack it into the cache, so that launches start at once',
    builder: (y) =>
      (y as Argv)
        .options(yargsOptions(PULL_FLAGS, true))
        .parserConfiguration({ 'boolean-negation': false })
        .options({
          name: {
            type: 'string',
            group: 'Image file:',
            description:
              'also write the image to FILE, an OCI archive that berth exec FILE runs (docker:// images)',
          },
          force: {
            alias: 'F',
            type: 'boolean',
            group: 'Image file:',
            description: 'with --name, overwrite FILE if it exists',
          },
        })
        .positional('image', { type: 'string', description: IMAGE_REFERENCE_HELP })
        .positional('uri', {
          type: 'string',
          description: "upstream's form pull FILE IMAGE: the same as --name FILE IMAGE",
        })
        .usage(
          'berth pull [options] IMAGE\nberth pull [options] --name FILE IMAGE\n\nfetch an image and unpack it into the cache',
        )
        .example([
          ['berth pull docker://alpine:3.20', 'docker.io/library/alpine:3.20'],
          ['berth pull --name a.oci docker://alpine', 'also the image file a.oci'],
        ])
        .epilog(
          'Prints the manifest digest on stdout. Progress goes to stderr: bars on a terminal, one line per layer otherwise. With --name FILE (or as upstream: pull FILE IMAGE) the image is also written to FILE, an OCI archive: berth exec FILE runs it.',
        ) as unknown as Argv<PullArgs>,
    handler: async (argv) => {
      const quiet = argv.quiet === true;
      const target = pullTarget(argv, process.cwd());
      const options: PullOptions = {
        ...optionValues(PULL_OPTION_FLAGS, argv, io.env),
        image: target.image,
        hostEnv: io.env,
        onWarning: quiet ? undefined : (m) => warn(io, m),
      };
      checkFlagValues(PullOptionsSchema, options, PULL_OPTION_FLAGS, 'see berth pull --help');
      const temporary = target.file !== undefined && options.disableCache === true;
      if (target.file !== undefined) {
        // the blobs the file is written from: the cache's, or (--disable-cache) a temporary one's
        options.cacheDir = temporary
          ? await mkdtemp(path.join(io.env.TMPDIR || os.tmpdir(), 'berth-pull-'))
          : (await listImageCache({ hostEnv: io.env })).cacheDir;
        options.disableCache = false;
      }
      const display = createProgress(io, { quiet });
      try {
        const result = await pull({ ...options, onProgress: display.onProgress });
        display.finish();
        const what = `${result.image}${result.platform ? ` (${result.platform})` : ''}`;
        if (target.file !== undefined) {
          await writeOciArchive(target.file, {
            blobsDir: path.join(options.cacheDir as string, 'blobs'),
            manifestDigest: result.manifestDigest,
            tag: tagOf(result.image),
          });
        }
        if (!quiet) {
          let line = `berth: pulled ${what}`;
          if (target.file !== undefined) line += ` into ${target.file}`;
          if (options.disableCache === true)
            line = `berth: fetched and unpacked ${what}, and kept nothing (--disable-cache)`;
          else if (temporary) line += ', and kept nothing else (--disable-cache)';
          io.stderr.write(`${line}\n`);
        }
        io.stdout.write(`${result.manifestDigest}\n`);
      } finally {
        display.finish();
        if (temporary) {
          const cacheDir = options.cacheDir as string;
          await cleanImageCache({ cacheDir, all: true, hostEnv: io.env }).catch(() => {});
          await rm(cacheDir, { recursive: true, force: true }).catch(() => {});
        }
      }
      setExit(0);
    },
  };
}
