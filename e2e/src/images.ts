/**
 * The images the e2e suite and the quick start run, built here from Debian's busybox-static.
 */
import {
  chmod,
  chown,
  copyFile,
  link,
  mkdir,
  mkdtemp,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { writeOciImage } from './oci-layout.js';

export const BUSYBOX = process.env.BERTH_BUSYBOX ?? '/bin/busybox';

async function busyboxApplets(): Promise<string[]> {
  const { stdout } = await execa(BUSYBOX, ['--list']);
  return stdout.split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
}

/** Stages a busybox base tree: /bin/busybox and one symlink per applet, /etc, /tmp, /root. */
async function stageBase(dir: string, users: string[], groups: string[]): Promise<void> {
  await mkdir(path.join(dir, 'bin'), { recursive: true });
  await copyFile(BUSYBOX, path.join(dir, 'bin', 'busybox'));
  await chmod(path.join(dir, 'bin', 'busybox'), 0o755);
  for (const applet of await busyboxApplets()) {
    await symlink('busybox', path.join(dir, 'bin', applet)).catch(() => {});
  }
  for (const d of [
    'etc',
    'home',
    'var',
    'var/tmp',
    'tmp',
    'root',
    'usr/bin',
    'proc',
    'sys',
    'dev',
  ]) {
    await mkdir(path.join(dir, d), { recursive: true });
  }
  await chmod(path.join(dir, 'tmp'), 0o1777);
  await chmod(path.join(dir, 'var/tmp'), 0o1777);
  await chmod(path.join(dir, 'root'), 0o700);
  await writeFile(path.join(dir, 'etc/passwd'), `${users.join('\n')}\n`);
  await writeFile(path.join(dir, 'etc/group'), `${groups.join('\n')}\n`);
}

const ROOT_USERS = [
  'root:x:0:0:root:/root:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
];
const ROOT_GROUPS = ['root:x:0:', 'nogroup:x:65534:'];

/** The uid and gid that own `/owned/other` in the test image. */
export const OTHER_ID = 1234;

export interface TestImage {
  layout: string;
  tag: string;
  ref: string;
  manifestDigest: string;
}

/**
 * The e2e test image (must be built as root: it records files owned by another uid):
 * three layers (two gzip, one plain) with a whiteout, an opaque directory, a hardlink, symlinks,
 * and files owned by root and by OTHER_ID.
 */
export async function buildTestImage(layout: string, tag = 'test'): Promise<TestImage> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'berth-e2e-stage-'));
  try {
    const l1 = path.join(work, 'l1');
    await stageBase(
      l1,
      [...ROOT_USERS, `alice:x:${OTHER_ID}:${OTHER_ID}:alice:/home/alice:/bin/sh`],
      [...ROOT_GROUPS, `alice:x:${OTHER_ID}:`],
    );
    await mkdir(path.join(l1, 'owned'));
    await writeFile(path.join(l1, 'owned/root'), 'owned by root\n');
    await writeFile(path.join(l1, 'owned/other'), 'owned by alice\n');
    await chown(path.join(l1, 'owned/other'), OTHER_ID, OTHER_ID);
    await chmod(path.join(l1, 'owned/other'), 0o640);
    await mkdir(path.join(l1, 'home/alice'));
    await chown(path.join(l1, 'home/alice'), OTHER_ID, OTHER_ID);
    await writeFile(path.join(l1, 'deleteme'), 'must be whited out\n');
    await mkdir(path.join(l1, 'opaque/sub'), { recursive: true });
    await writeFile(path.join(l1, 'opaque/old'), 'hidden by the opaque whiteout\n');
    await writeFile(path.join(l1, 'opaque/sub/old'), 'hidden too\n');

    const l2 = path.join(work, 'l2');
    await mkdir(path.join(l2, 'opaque'), { recursive: true });
    await writeFile(path.join(l2, '.wh.deleteme'), '');
    await writeFile(path.join(l2, 'opaque/.wh..wh..opq'), '');
    await writeFile(path.join(l2, 'opaque/new'), 'new in layer 2\n');
    await mkdir(path.join(l2, 'data'));
    await writeFile(path.join(l2, 'data/file'), 'hello from layer 2\n');
    await link(path.join(l2, 'data/file'), path.join(l2, 'data/hardlink'));
    await symlink('file', path.join(l2, 'data/symlink'));
    await symlink('/data/file', path.join(l2, 'data/abs-symlink'));

    const l3 = path.join(work, 'l3');
    await mkdir(path.join(l3, 'etc'), { recursive: true });
    await writeFile(path.join(l3, 'etc/motd'), 'layer 3 is uncompressed\n');

    const manifestDigest = await writeOciImage(
      layout,
      tag,
      [{ dir: l1 }, { dir: l2 }, { dir: l3, compression: 'none' }],
      {
        Cmd: ['/bin/sh', '-c', 'echo default-cmd'],
        Env: [
          'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          'IMAGE_VAR=from-image',
        ],
        WorkingDir: '/data',
      },
    );
    return { layout, tag, ref: `oci:${layout}:${tag}`, manifestDigest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The quick start's demo image: busybox, printing a greeting. Any user can build it.
 * `user` sets the image config's User (its /etc/passwd knows root and nobody).
 */
export async function buildDemoImage(
  layout: string,
  tag = 'demo',
  options: { rootMode?: number; user?: string } = {},
): Promise<TestImage> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'berth-demo-stage-'));
  await chmod(work, options.rootMode ?? 0o755); // the layer's root entry: the container's /
  try {
    await stageBase(work, ROOT_USERS, ROOT_GROUPS);
    const manifestDigest = await writeOciImage(layout, tag, [{ dir: work, rootOwned: true }], {
      Cmd: [
        '/bin/sh',
        '-c',
        'echo "hello from a berth container: $(uname -s) $(uname -r), uid $(id -u), $(ls /bin | wc -l) files in /bin"',
      ],
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(options.user !== undefined && { User: options.user }),
    });
    return { layout, tag, ref: `oci:${layout}:${tag}`, manifestDigest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** CLI: `tsx src/images.ts demo|test LAYOUT [TAG]` builds an image and prints its reference. */
if (import.meta.url === `file://${process.argv[1]}`) {
  const [kind, layout, tag] = process.argv.slice(2);
  if ((kind !== 'demo' && kind !== 'test') || !layout) {
    console.error('usage: images.ts demo|test LAYOUT [TAG]');
    process.exit(2);
  }
  const build = kind === 'demo' ? buildDemoImage : buildTestImage;
  const image = await build(path.resolve(layout), tag);
  console.log(image.ref);
}
