/**
 * Builds the three benchmark images as OCI layouts under .berth-work/bench/images (as root):
 * - busybox: busybox-static and its applet links (~270 entries);
 * - debian: a debootstrap minbase split into 3 layers with whiteouts, an opaque directory
 *   and hardlinks (~6,700 entries);
 * - smallfiles: 50,000 small files in 500 directories.
 * Each is built once; delete its directory to rebuild.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, link, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildDemoImage } from '../../e2e/src/images.ts';
import { writeOciImage } from '../../e2e/src/oci-layout.ts';
import { IMAGES, WORK } from './common.ts';

const log = (m: string) => process.stderr.write(`bench-images: ${m}\n`);

async function busybox(): Promise<void> {
  const layout = path.join(IMAGES, 'busybox');
  if (existsSync(path.join(layout, 'index.json'))) return;
  log('busybox');
  await buildDemoImage(layout, 'bench');
}

async function debian(): Promise<void> {
  const layout = path.join(IMAGES, 'debian');
  if (existsSync(path.join(layout, 'index.json'))) return;
  const stage = path.join(WORK, 'debian-stage');
  const base = path.join(stage, 'l1');
  if (!existsSync(path.join(base, 'etc', 'debian_version'))) {
    log('debootstrap --variant=minbase bookworm (a minute or two)');
    await rm(stage, { recursive: true, force: true });
    await mkdir(stage, { recursive: true });
    execFileSync(
      'debootstrap',
      ['--variant=minbase', 'bookworm', base, 'http://deb.debian.org/debian'],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    // no device nodes in image layers
    execFileSync('sh', [
      '-c',
      `find ${base}/dev -mindepth 1 -delete; rm -f ${base}/var/cache/apt/archives/*.deb`,
    ]);
  }
  log('debian: splitting into 3 layers');
  // layer 2: whiteouts over layer 1, an opaque directory, new files with hardlinks
  const l2 = path.join(stage, 'l2');
  await rm(l2, { recursive: true, force: true });
  await mkdir(path.join(l2, 'usr/share/doc'), { recursive: true });
  for (const doc of ['apt', 'bash', 'coreutils', 'dpkg', 'tar'])
    await writeFile(path.join(l2, 'usr/share/doc', `.wh.${doc}`), '');
  await mkdir(path.join(l2, 'etc/apt/apt.conf.d'), { recursive: true });
  await writeFile(path.join(l2, 'etc/apt/apt.conf.d/.wh..wh..opq'), '');
  await writeFile(
    path.join(l2, 'etc/apt/apt.conf.d/99bench'),
    'APT::Install-Recommends "false";\n',
  );
  await mkdir(path.join(l2, 'opt/bench'), { recursive: true });
  for (let i = 0; i < 50; i++) {
    const f = path.join(l2, 'opt/bench', `file-${i}`);
    await writeFile(f, randomBytes(2048));
    await link(f, path.join(l2, 'opt/bench', `hardlink-${i}`));
  }
  // layer 3: a few changes, more whiteouts
  const l3 = path.join(stage, 'l3');
  await rm(l3, { recursive: true, force: true });
  await mkdir(path.join(l3, 'var/cache/debconf'), { recursive: true });
  await writeFile(path.join(l3, 'var/cache/debconf/.wh.templates.dat-old'), '');
  await mkdir(path.join(l3, 'etc'), { recursive: true });
  await writeFile(path.join(l3, 'etc/motd'), 'berth bench\n');
  await writeOciImage(layout, 'bench', [{ dir: base }, { dir: l2 }, { dir: l3 }], {
    Cmd: ['/bin/bash'],
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  });
}

async function smallfiles(): Promise<void> {
  const layout = path.join(IMAGES, 'smallfiles');
  if (existsSync(path.join(layout, 'index.json'))) return;
  log('smallfiles: 50,000 files');
  const stage = path.join(WORK, 'small-stage');
  await rm(stage, { recursive: true, force: true });
  for (let d = 0; d < 500; d++) {
    const dir = path.join(stage, 'data', `d${String(d).padStart(3, '0')}`);
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < 100; f++)
      await writeFile(path.join(dir, `f${f}`), randomBytes(64).toString('hex'));
  }
  await writeOciImage(layout, 'bench', [{ dir: stage, rootOwned: true }], { Cmd: ['/bin/sh'] });
  await rm(stage, { recursive: true, force: true });
}

await mkdir(IMAGES, { recursive: true });
await busybox();
await debian();
await smallfiles();
// readable by the unprivileged user the benches run as
execFileSync('chmod', ['-R', 'a+rX', IMAGES]);
await chmod(WORK, 0o755);
for (const name of ['busybox', 'debian', 'smallfiles']) {
  const layout = path.join(IMAGES, name);
  const blobs = execFileSync('du', ['-sh', path.join(layout, 'blobs')], { encoding: 'utf8' }).split(
    '\t',
  )[0];
  log(`${name}: oci:${layout}:bench (${blobs})`);
}
