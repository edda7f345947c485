/**
 * Unpack benchmark: berth's unpacker, `umoci unpack --rootless` and the floor `tar -x` of the
 * same layers, side by side in one run, as the unprivileged user, into a fresh directory each
 * time. Prints a Markdown table (median wall time, ratio to the floor, peak RSS).
 *
 *   tsx src/unpack.ts [--runs N] [--target DIR]
 *
 * --target is where the trees are written (default .berth-work/bench/scratch, on disk);
 * use a tmpfs (/dev/shm/...) to measure CPU cost without the disk.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { BENCH_USER, IMAGES, median, REPO, WORK } from './common.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] as string) : def;
};
const runs = Number(opt('--runs', '5'));
const target = path.resolve(opt('--target', path.join(WORK, 'scratch')));

const [uid, gid] = execFileSync('id', ['-u', BENCH_USER], { encoding: 'utf8' })
  .trim()
  .concat(':', execFileSync('id', ['-g', BENCH_USER], { encoding: 'utf8' }).trim())
  .split(':');

function layers(layout: string): Array<{ file: string; gzip: boolean }> {
  const blob = (d: string) => path.join(layout, 'blobs', 'sha256', d.replace('sha256:', ''));
  const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8'));
  return manifest.layers.map((l: { digest: string; mediaType: string }) => ({
    file: blob(l.digest),
    gzip: l.mediaType.endsWith('gzip'),
  }));
}

type Tool = { name: string; argv: (layout: string, dest: string) => string[] };
const TOOLS: Tool[] = [
  {
    name: 'tar -x (floor)',
    argv: (layout, dest) => [
      'sh',
      '-c',
      [
        `mkdir ${dest}`,
        ...layers(layout).map(
          (l) => `tar -x${l.gzip ? 'z' : ''}f ${l.file} -C ${dest} --no-same-owner`,
        ),
      ].join(' && '),
    ],
  },
  {
    name: 'berth',
    argv: (layout, dest) => [
      process.execPath,
      path.join(REPO, 'bench/src/berth-unpack.mjs'),
      `oci:${layout}:bench`,
      dest,
    ],
  },
  {
    name: 'umoci --rootless',
    argv: (layout, dest) => ['umoci', 'unpack', '--rootless', '--image', `${layout}:bench`, dest],
  },
];

async function timeOnce(argv: string[]): Promise<{ seconds: number; rssKiB: number }> {
  const r = await execa(
    'setpriv',
    [
      `--reuid=${uid}`,
      `--regid=${gid}`,
      '--init-groups',
      '--',
      '/usr/bin/time',
      '-f',
      '%e %M',
      ...argv,
    ],
    {
      reject: false,
      env: { HOME: '/tmp', PATH: process.env.PATH ?? '/usr/bin:/bin' },
      extendEnv: false,
    },
  );
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  const last = String(r.stderr).trim().split('\n').at(-1) as string;
  const [s, kb] = last.split(' ').map(Number) as [number, number];
  return { seconds: s, rssKiB: kb };
}

mkdirSync(target, { recursive: true });
execFileSync('chown', [`${uid}:${gid}`, target]);
const rows: string[] = [];
for (const image of ['busybox', 'debian', 'smallfiles']) {
  const layout = path.join(IMAGES, image);
  const entries = execFileSync(
    'sh',
    [
      '-c',
      `for l in ${layers(layout)
        .map((l) => l.file)
        .join(' ')}; do tar -tzf $l 2>/dev/null || tar -tf $l; done | wc -l`,
    ],
    { encoding: 'utf8' },
  ).trim();
  const results: Record<string, { t: number; rss: number }> = {};
  for (const tool of TOOLS) {
    const times: number[] = [];
    let rss = 0;
    for (let i = 0; i < runs; i++) {
      const dest = path.join(target, `${image}-${i}`);
      rmSync(dest, { recursive: true, force: true });
      execFileSync('sync');
      const r = await timeOnce(tool.argv(layout, dest));
      times.push(r.seconds);
      rss = Math.max(rss, r.rssKiB);
      rmSync(dest, { recursive: true, force: true });
    }
    results[tool.name] = { t: median(times), rss };
    process.stderr.write(
      `${image} ${tool.name}: ${times.join(' ')} s, peak ${(rss / 1024).toFixed(0)} MiB\n`,
    );
  }
  const floor = results['tar -x (floor)']?.t ?? 1;
  for (const tool of TOOLS) {
    const r = results[tool.name] as { t: number; rss: number };
    rows.push(
      `| ${image} (${entries} entries) | ${tool.name} | ${r.t.toFixed(3)} | ${(r.t / floor).toFixed(2)}× | ${(r.rss / 1024).toFixed(0)} |`,
    );
  }
  const b = results.berth as { t: number };
  const u = results['umoci --rootless'] as { t: number };
  rows.push(`| ${image} | **umoci / berth** | | **${(u.t / b.t).toFixed(2)}×** | |`);
}
console.log(`Target: ${target}; ${runs} runs each, median; as user ${BENCH_USER}\n`);
console.log('| image | tool | median s | vs tar floor | peak RSS MiB |');
console.log('| --- | --- | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
