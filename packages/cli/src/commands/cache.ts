import { cleanImageCache, listImageCache } from '@berth-oci/launcher';
import type { Argv, CommandModule } from 'yargs';
import { formatBytes } from '../progress.js';
import { type Io, warn } from '../render.js';

interface CacheArgs {
  image?: string;
  json?: boolean;
  all?: boolean;
  [option: string]: unknown;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const when = (iso: string) => iso.replace('T', ' ').replace(/:\d\d\.\d+Z$/, 'Z');

/** `berth cache list|clean`. */
export function cacheCommand(
  io: Io,
  setExit: (code: number) => void,
): CommandModule<object, CacheArgs> {
  return {
    command: 'cache <command>',
    describe: 'list or clean the image cache ($BERTH_CACHEDIR, else ~/.cache/berth)',
    builder: (y) =>
      (y as Argv)
        .command({
          command: 'list',
          aliases: ['ls'],
          describe: 'list the unpacked images (sizes, last use) and the blobs',
          builder: (c) =>
            c.option('json', { type: 'boolean', description: 'print the listing as JSON' }),
          handler: async (argv) => {
            const listing = await listImageCache({ hostEnv: io.env });
            if (argv.json === true) {
              io.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
            } else {
              const rows = [['IMAGE', 'DIGEST', 'VARIANT', 'SIZE', 'LAST USED']];
              for (const e of listing.images) {
                rows.push([
                  e.refs[0] ?? '(unknown)',
                  e.manifestDigest.slice(0, 19),
                  e.variant,
                  e.bytes === undefined ? '?' : formatBytes(e.bytes),
                  when(e.lastUsed),
                ]);
              }
              io.stdout.write(`${table(rows)}\n`);
              io.stdout.write(
                `${listing.images.length} images; ${listing.blobs.count} blobs (${formatBytes(listing.blobs.bytes)})${listing.temporaries ? `; ${listing.temporaries} leftovers of interrupted pulls` : ''} in ${listing.cacheDir}\n`,
              );
            }
            setExit(0);
          },
        })
        .command({
          command: 'clean [image]',
          describe:
            'remove leftovers and unused blobs; with IMAGE that image; with --all everything',
          builder: (c) =>
            c
              .positional('image', {
                type: 'string',
                description:
                  'a reference the image was used by, or its manifest digest (12+ hex digits)',
              })
              .option('all', { alias: 'a', type: 'boolean', description: 'remove everything' })
              .conflicts('all', 'image'),
          handler: async (argv) => {
            const result = await cleanImageCache({
              hostEnv: io.env,
              all: argv.all === true,
              ...(argv.image !== undefined && { image: String(argv.image) }),
              onWarning: (m) => warn(io, m),
            });
            const count = (k: string) => result.removed.filter((r) => r.kind === k).length;
            const bytes = result.removed.reduce((n, r) => n + (r.bytes ?? 0), 0);
            io.stdout.write(
              `removed ${count('rootfs')} images, ${count('blob')} blobs and ${count('temporary')} leftovers (${formatBytes(bytes)})\n`,
            );
            for (const b of result.busy) warn(io, `${b} is in use by a running berth; kept it`);
            setExit(0);
          },
        })
        .demandCommand(1, 'name a cache command: list or clean') as unknown as Argv<CacheArgs>,
    handler: () => {},
  };
}
