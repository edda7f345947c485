import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ResolvedImage } from '../src/core/resolved-image.js';
import { resolveImage } from '../src/resolve.js';
import { removeTree } from '../src/unpack/remove-tree.js';
import { type UnpackProgress, unpackImage, unpackImageAtomic } from '../src/unpack/unpack.js';
import { rejects } from './helpers/expect.js';
import { type LayerDesc, Layout, MT, sha256, tempDir } from './helpers/layout.js';
import { makeTar, type TarSpec } from './helpers/tar-writer.js';

async function image(
  layers: ReadonlyArray<ReadonlyArray<TarSpec | Buffer>>,
  opts: { gzip?: boolean } = {},
): Promise<ResolvedImage> {
  const l = new Layout();
  return resolveImage(l.single(layers, opts));
}

function dest(): string {
  return path.join(tempDir(), 'rootfs');
}

const ls = (dir: string): string[] => readdirSync(dir).sort();
const mode = (p: string): number => lstatSync(p).mode & 0o7777;

test('gzip and plain layers, files, dirs, symlinks, modes, mtimes, stats and progress', async () => {
  for (const gzip of [true, false]) {
    const img = await image(
      [
        [
          { name: './', type: 'dir', mode: 0o755 },
          { name: 'bin/', type: 'dir', mode: 0o755, mtime: 1_600_000_000 },
          { name: 'bin/tool', data: '#!/bin/sh\n', mode: 0o4755, mtime: 1_500_000_000 },
          { name: 'etc/os-release', data: 'ID=test\n', mode: 0o444 },
          { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
          { name: 'abs', type: 'symlink', linkname: '/etc/os-release' },
          { name: 'ro/', type: 'dir', mode: 0o555 },
          { name: 'ro/inside', data: 'x', mode: 0o600 },
          { name: 'big', data: Buffer.alloc(3_000_000, 0x61) },
        ],
      ],
      { gzip },
    );
    const events: UnpackProgress[] = [];
    const d = dest();
    const stats = await unpackImage(img, d, { onProgress: (e) => events.push(e) });
    assert.equal(ls(d), ['abs', 'big', 'bin', 'etc', 'lib', 'ro']);
    assert.is(readFileSync(path.join(d, 'bin/tool'), 'utf8'), '#!/bin/sh\n');
    assert.is(mode(path.join(d, 'bin/tool')), 0o4755, 'setuid kept');
    assert.is(lstatSync(path.join(d, 'bin/tool')).mtimeMs, 1_500_000_000_000);
    assert.is(
      lstatSync(path.join(d, 'bin')).mtimeMs,
      1_600_000_000_000,
      'dir mtime set after its contents',
    );
    assert.is(mode(path.join(d, 'etc/os-release')), 0o444);
    assert.is(mode(path.join(d, 'etc')), 0o755, 'implied directory is 0755');
    assert.is(mode(path.join(d, 'ro')), 0o555, 'read-only dir mode applied at the end');
    assert.is(readFileSync(path.join(d, 'ro/inside'), 'utf8'), 'x');
    assert.is(readlinkSync(path.join(d, 'lib')), 'usr/lib', 'symlink verbatim (dangling is fine)');
    assert.is(readlinkSync(path.join(d, 'abs')), '/etc/os-release');
    assert.is(lstatSync(path.join(d, 'big')).size, 3_000_000);
    assert.is(mode(d), 0o755, 'rootfs is 0755');
    assert.is(stats.layers, 1);
    assert.is(stats.files, 4);
    assert.is(stats.symlinks, 2);
    assert.is(stats.directories, 3);
    assert.ok(stats.bytes > 3_000_000);
    assert.is(events[0]?.phase, 'verifying');
    assert.is(events.at(-1)?.phase, 'extracted');
    assert.ok(events.some((e) => e.phase === 'extracting'));
  }
});

test('the root entry can set the rootfs mode', async () => {
  const img = await image([
    [
      { name: './', type: 'dir', mode: 0o700 },
      { name: 'f', data: 'x' },
    ],
  ]);
  const d = dest();
  await unpackImage(img, d);
  assert.is(mode(d), 0o700);
});

test('dest must not exist', async () => {
  const img = await image([[{ name: 'f', data: 'x' }]]);
  const d = dest();
  await unpackImage(img, d);
  await rejects(unpackImage(img, d), 'ERR_IMAGE_DEST_EXISTS', d);
  await rejects(unpackImageAtomic(img, d), 'ERR_IMAGE_DEST_EXISTS', d);
});

test('later layers replace files, directories and symlinks', async () => {
  const img = await image([
    [
      { name: 'a/', type: 'dir' },
      { name: 'a/old', data: 'old' },
      { name: 'f', data: 'one' },
      { name: 's', type: 'symlink', linkname: 'f' },
      { name: 'd', type: 'symlink', linkname: 'a' },
    ],
    [
      { name: 'a', data: 'now a file' },
      { name: 'f', data: 'two' },
      { name: 's', data: 'no longer a link' },
      { name: 'd/', type: 'dir', mode: 0o711 },
      { name: 'd/x', data: 'x' },
    ],
  ]);
  const d = dest();
  await unpackImage(img, d);
  assert.is(readFileSync(path.join(d, 'a'), 'utf8'), 'now a file');
  assert.is(readFileSync(path.join(d, 'f'), 'utf8'), 'two');
  assert.ok(lstatSync(path.join(d, 's')).isFile());
  assert.ok(
    lstatSync(path.join(d, 'd')).isDirectory(),
    'a symlink is never kept for a directory entry',
  );
  assert.is(mode(path.join(d, 'd')), 0o711);
  assert.equal(ls(path.join(d, 'd')), ['x']);
});

test("whiteouts remove lower-layer files and directories, never this layer's", async () => {
  const img = await image([
    [
      { name: 'etc/', type: 'dir' },
      { name: 'etc/keep', data: 'k' },
      { name: 'etc/gone', data: 'g' },
      { name: 'dir/', type: 'dir' },
      { name: 'dir/sub/', type: 'dir' },
      { name: 'dir/sub/file', data: 'f' },
      { name: 'link', type: 'symlink', linkname: 'etc' },
      { name: 'same', data: 'lower' },
    ],
    [
      { name: 'etc/.wh.gone', data: '' },
      { name: '.wh.dir', data: '' },
      { name: '.wh.link', data: '' },
      { name: 'etc/new', data: 'n' },
      { name: 'same', data: 'upper' },
      { name: '.wh.same', data: '' }, // after this layer's own entry: must not remove it
      { name: '.wh.nothing-here', data: '' },
    ],
  ]);
  const d = dest();
  const stats = await unpackImage(img, d);
  assert.equal(ls(d), ['etc', 'same']);
  assert.equal(ls(path.join(d, 'etc')), ['keep', 'new']);
  assert.is(readFileSync(path.join(d, 'same'), 'utf8'), 'upper');
  assert.is(stats.whiteouts, 5);
});

test("opaque whiteouts clear lower contents but keep this layer's, in any order", async () => {
  for (const markerFirst of [true, false]) {
    const marker: TarSpec = { name: 'opq/.wh..wh..opq', data: '' };
    const upper: TarSpec[] = [
      { name: 'opq/', type: 'dir', mode: 0o750 },
      { name: 'opq/mine', data: 'mine' },
      { name: 'opq/kept-dir/', type: 'dir' },
      { name: 'opq/kept-dir/new', data: 'new' },
    ];
    const img = await image([
      [
        { name: 'opq/', type: 'dir' },
        { name: 'opq/lower', data: 'l' },
        { name: 'opq/lowerdir/', type: 'dir' },
        { name: 'opq/lowerdir/x', data: 'x' },
        { name: 'opq/kept-dir/', type: 'dir' },
        { name: 'opq/kept-dir/lower-inside', data: 'li' },
        { name: 'other', data: 'o' },
      ],
      markerFirst ? [upper[0] as TarSpec, marker, ...upper.slice(1)] : [...upper, marker],
    ]);
    const d = dest();
    await unpackImage(img, d);
    assert.equal(ls(path.join(d, 'opq')), ['kept-dir', 'mine'], `marker first: ${markerFirst}`);
    assert.equal(
      ls(path.join(d, 'opq/kept-dir')),
      ['new'],
      'lower content below a dir of this layer is cleared too',
    );
    assert.equal(ls(d), ['opq', 'other']);
    assert.is(mode(path.join(d, 'opq')), 0o750);
  }
});

test('whiteout markers never appear in the rootfs; invalid whiteouts are refused', async () => {
  const img = await image([
    [
      { name: 'a', data: 'a' },
      { name: 'x/.wh..wh..opq', data: '' },
      { name: '.wh..wh.plnk', type: 'dir' },
    ],
  ]);
  const d = dest();
  const warnings: string[] = [];
  await unpackImage(img, d, { onWarning: (m) => warnings.push(m) });
  assert.equal(ls(d), ['a']);
  assert.ok(warnings.some((w) => w.includes('AUFS')));
  for (const name of ['.wh.', 'sub/.wh..', '.wh...']) {
    const bad = await image([
      [
        { name: 'sub/', type: 'dir' },
        { name, data: '' },
      ],
    ]);
    await rejects(unpackImage(bad, dest()), 'ERR_IMAGE_LAYER_INVALID', 'invalid whiteout');
  }
  const below = await image([[{ name: '.wh.dir/file', data: '' }]]);
  await rejects(unpackImage(below, dest()), 'ERR_IMAGE_LAYER_INVALID', 'whiteout');
});

test('hardlinks share the inode and are never chmod/chowned', async () => {
  const img = await image([
    [
      { name: 'bin/', type: 'dir' },
      { name: 'bin/busybox', data: 'bb', mode: 0o755, uid: 0 },
      { name: 'bin/ls', type: 'link', linkname: 'bin/busybox', mode: 0o777, uid: 42 },
      { name: 'bin/self', data: 's' },
      { name: 'bin/self', type: 'link', linkname: 'bin/self' },
      { name: 'abs', type: 'link', linkname: '/bin/busybox' },
    ],
    [{ name: 'upper', type: 'link', linkname: './bin/../bin/busybox' }],
  ]);
  const d = dest();
  const stats = await unpackImage(img, d, { owner: (u, g) => [u + 100000, g + 100000] });
  const a = lstatSync(path.join(d, 'bin/busybox'));
  const b = lstatSync(path.join(d, 'bin/ls'));
  assert.is(a.ino, b.ino);
  assert.is(a.nlink, 4);
  assert.is(a.mode & 0o7777, 0o755, "the hardlink entry's mode was not applied");
  assert.is(a.uid, 100000, "the hardlink entry's uid was not applied");
  assert.is(lstatSync(path.join(d, 'upper')).ino, a.ino);
  assert.is(readFileSync(path.join(d, 'bin/self'), 'utf8'), 's');
  assert.is(stats.hardlinks, 3);
});

test('hardlinks to directories or missing targets are refused', async () => {
  const dir = await image([
    [
      { name: 'd/', type: 'dir' },
      { name: 'h', type: 'link', linkname: 'd' },
    ],
  ]);
  await rejects(unpackImage(dir, dest()), 'ERR_IMAGE_LAYER_INVALID', 'directory');
  const missing = await image([[{ name: 'h', type: 'link', linkname: 'nope' }]]);
  await rejects(unpackImage(missing, dest()), 'ERR_IMAGE_LAYER_INVALID', 'does not exist');
  const root = await image([[{ name: 'h', type: 'link', linkname: './' }]]);
  await rejects(unpackImage(root, dest()), 'ERR_IMAGE_LAYER_INVALID', 'root');
});

test('owners: the owner callback maps ids, lchown for symlinks, no chown without it', async () => {
  const img = await image([
    [
      { name: 'd/', type: 'dir', uid: 1000, gid: 1001 },
      { name: 'd/f', data: 'x', uid: 1000, gid: 1001, mode: 0o2755 },
      { name: 'd/l', type: 'symlink', linkname: '/nowhere', uid: 7, gid: 8 },
      { name: 'implied/f', data: 'y', uid: 5, gid: 6 },
      { name: 'skip', data: 'z', uid: 99, gid: 99 },
    ],
  ]);
  const d = dest();
  const seen: Array<[number, number]> = [];
  await unpackImage(img, d, {
    owner: (uid, gid) => {
      seen.push([uid, gid]);
      return uid === 99 ? null : [uid + 200000, gid + 300000];
    },
  });
  const st = (p: string) => lstatSync(path.join(d, p));
  assert.equal([st('d').uid, st('d').gid], [201000, 301001]);
  assert.equal([st('d/f').uid, st('d/f').gid], [201000, 301001]);
  assert.is(st('d/f').mode & 0o7777, 0o2755, 'setgid survives chown');
  assert.equal([st('d/l').uid, st('d/l').gid], [200007, 300008], 'symlink itself chowned');
  assert.equal(
    [st('implied').uid, st('implied').gid],
    [200000, 300000],
    'implied dirs belong to image root',
  );
  assert.equal([st('skip').uid, st('skip').gid], [0, 0], 'null means no chown');
  assert.equal([st('').uid, st('').gid], [200000, 300000], 'rootfs belongs to image root');
  const d2 = dest();
  await unpackImage(img, d2);
  assert.is(
    lstatSync(path.join(d2, 'd/f')).uid,
    process.getuid?.(),
    'no owner: files belong to us',
  );
  await rejects(unpackImage(img, dest(), { owner: () => [-1, 0] }), 'ERR_INVALID_OPTIONS', 'owner');
});

test('device nodes and FIFOs are skipped with a warning', async () => {
  const img = await image([
    [
      { name: 'dev/', type: 'dir' },
      { name: 'dev/null', type: 'char' },
      { name: 'dev/sda', type: 'block' },
      { name: 'fifo', type: 'fifo' },
      { name: 'f', data: 'x' },
    ],
  ]);
  const d = dest();
  const warnings: string[] = [];
  const stats = await unpackImage(img, d, { onWarning: (m) => warnings.push(m) });
  assert.equal(ls(d), ['dev', 'f']);
  assert.equal(ls(path.join(d, 'dev')), []);
  assert.is(stats.skipped, 3);
  assert.is(warnings.length, 1);
  assert.match(warnings[0] ?? '', /skipped 3 device nodes\/FIFOs/);
  assert.match(warnings[0] ?? '', /"dev\/null"/);
});

const zstd = (data: Buffer, ...args: string[]): Buffer =>
  execFileSync('zstd', ['-q', '-c', ...args], { input: data, maxBuffer: 1 << 28 });

/** A zstd layer descriptor for `stored` (any bytes), whose uncompressed tar is `tar`. */
function zstdLayer(l: Layout, stored: Buffer, tar: Buffer): LayerDesc {
  const { digest, size } = l.blob(stored);
  return { mediaType: MT.layerZstd, digest, size, diffId: sha256(tar) };
}

test('zstd layers: single and multiple frames, skippable frames, diff_id checked', async () => {
  const l = new Layout();
  const big = Buffer.alloc(3 << 20, 'z');
  const tar1 = makeTar([
    { name: 'etc/', type: 'dir' },
    { name: 'etc/zstd', data: 'from zstd\n' },
    { name: 'big', data: big },
  ]);
  // two frames (as pzstd and zstd:chunked write) with a skippable frame between them
  const tar2 = makeTar([{ name: 'second', data: 'frame two\n' }]);
  const half = Math.floor(tar2.length / 2);
  const skippable = Buffer.concat([
    Buffer.from([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0]),
    Buffer.from('skip'),
  ]);
  const multi = Buffer.concat([
    zstd(tar2.subarray(0, half)),
    skippable,
    zstd(tar2.subarray(half), '--no-check'),
  ]);
  l.writeIndex([
    { desc: l.image([zstdLayer(l, zstd(tar1, '-19'), tar1), zstdLayer(l, multi, tar2)]), tag: 'z' },
  ]);
  const d = dest();
  const stats = await unpackImage(await resolveImage(`oci:${l.dir}:z`), d);
  assert.is(readFileSync(path.join(d, 'etc/zstd'), 'utf8'), 'from zstd\n');
  assert.ok(readFileSync(path.join(d, 'big')).equals(big));
  assert.is(readFileSync(path.join(d, 'second'), 'utf8'), 'frame two\n');
  assert.is(stats.layers, 2);
  // a zstd layer whose content is not its diff_id
  const other = makeTar([{ name: 'x', data: 'x' }]);
  l.writeIndex([
    { desc: l.image([{ ...zstdLayer(l, zstd(other), other), diffId: sha256('lie') }]), tag: 'bad' },
  ]);
  await rejects(
    unpackImageAtomic(await resolveImage(`oci:${l.dir}:bad`), dest()),
    'ERR_IMAGE_DIGEST_MISMATCH',
    'diff_id',
  );
});

test('hostile zstd: huge windows, dictionaries, reserved bits, truncation, garbage, not zstd', async () => {
  const l = new Layout();
  const tar = makeTar([{ name: 'f', data: 'x'.repeat(1000) }]);
  const good = zstd(tar);
  // frame header: magic, descriptor, window descriptor (no single segment)
  const frame = (fhd: number, extra: number[]) =>
    Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, fhd, ...extra]), Buffer.from([1, 0, 0])]);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['a 2 GiB window', frame(0x00, [0xa8]), /window/],
    ['a single-segment frame of 4 GiB', frame(0xe0, [0, 0, 0, 0, 1, 0, 0, 0]), /window/],
    ['a dictionary', frame(0x01, [0x50, 7]), /dictionary/],
    ['a reserved bit', frame(0x08, [0x50]), /reserved/],
    ['truncation', good.subarray(0, good.length - 6), /truncated|EOF/i],
    ['garbage after the last frame', Buffer.concat([good, Buffer.from('garbage!')]), /garbage/],
    ['no zstd at all', gzipSync(tar), /magic/],
    ['an empty stream', Buffer.alloc(0), /no frame/],
  ];
  for (const [what, stored, message] of cases) {
    l.writeIndex([{ desc: l.image([zstdLayer(l, stored, tar)]), tag: 't' }]);
    const d = dest();
    const e = await rejects(
      unpackImageAtomic(await resolveImage(`oci:${l.dir}:t`), d),
      'ERR_IMAGE_LAYER_INVALID',
    );
    assert.match(e.message, message, what);
    assert.match(e.message, /sha256:[a-f0-9]{64}/, `${what}: the error names the layer`);
    assert.not.ok(existsSync(d), `${what}: nothing is left`);
  }
});

test('unknown layer media types are refused', async () => {
  const l = new Layout();
  const u = l.layer([{ name: 'f', data: 'x' }], {
    gzip: false,
    mediaType: 'application/x-unknown',
  });
  l.writeIndex([{ desc: l.image([u]), tag: 'u' }]);
  await rejects(
    unpackImage(await resolveImage(`oci:${l.dir}:u`), dest()),
    'ERR_IMAGE_MEDIA_TYPE',
    'application/x-unknown',
  );
});

test('limits: entries, path length, depth, total bytes', async () => {
  const many = await image([
    [
      { name: 'a', data: '' },
      { name: 'b', data: '' },
      { name: 'c', data: '' },
    ],
  ]);
  await rejects(
    unpackImage(many, dest(), { limits: { maxEntries: 2 } }),
    'ERR_IMAGE_LIMIT',
    'entries',
  );
  await unpackImage(many, dest(), { limits: { maxEntries: 3 } });
  const long = await image([[{ name: `d/${'x'.repeat(300)}`, data: '' }]]);
  const e = await rejects(
    unpackImage(long, dest(), { limits: { maxPathLength: 200 } }),
    'ERR_IMAGE_LIMIT',
  );
  assert.match(e.hint ?? '', /maxPathLength/);
  const deep = await image([[{ name: `${'d/'.repeat(20)}f`, data: '' }]]);
  await rejects(unpackImage(deep, dest(), { limits: { maxDepth: 10 } }), 'ERR_IMAGE_LIMIT');
  const big = await image([[{ name: 'big', data: Buffer.alloc(100_000) }]]);
  await rejects(unpackImage(big, dest(), { limits: { maxTotalBytes: 50_000 } }), 'ERR_IMAGE_LIMIT');
  await rejects(unpackImage(big, dest(), { limits: { maxTotalBytes: 0 } }), 'ERR_INVALID_OPTIONS');
});

test('layer digest, size and diff_id mismatches; nothing survives unpackImageAtomic', async () => {
  // compressed digest: tampered blob of the same size is refused before anything is written
  const l = new Layout();
  const good = l.layer([{ name: 'good', data: 'g' }]);
  const evil = l.layer([{ name: 'evil', data: 'e' }]);
  l.writeIndex([{ desc: l.image([good, evil]), tag: 't' }]);
  const img = await resolveImage(`oci:${l.dir}:t`);
  const blob = l.blobPath(evil.digest);
  const data = readFileSync(blob);
  data[20] = (data[20] as number) ^ 0xff;
  writeFileSync(blob, data);
  const d = dest();
  await rejects(unpackImage(img, d), 'ERR_IMAGE_DIGEST_MISMATCH', evil.digest);
  assert.not.ok(existsSync(d), 'nothing written before layers are verified');
  writeFileSync(blob, Buffer.concat([data, Buffer.from('x')]));
  await rejects(unpackImage(img, d), 'ERR_IMAGE_SIZE_MISMATCH', evil.digest);
  assert.not.ok(existsSync(d));

  // diff_id: only detectable while extracting
  const l2 = new Layout();
  const ok = l2.layer([{ name: 'good', data: 'g' }]);
  const lying = { ...l2.layer([{ name: 'evil', data: 'e' }]), diffId: ok.diffId };
  l2.writeIndex([{ desc: l2.image([ok, lying]), tag: 't' }]);
  const img2 = await resolveImage(`oci:${l2.dir}:t`);
  const base = tempDir();
  const target = path.join(base, 'rootfs');
  await rejects(unpackImageAtomic(img2, target), 'ERR_IMAGE_DIGEST_MISMATCH', 'diff_id');
  assert.equal(readdirSync(base), [], 'no rootfs and no temporary directory left');
  // and the plain variant leaves the partial tree to the caller
  await rejects(unpackImage(img2, target), 'ERR_IMAGE_DIGEST_MISMATCH');
  assert.ok(existsSync(path.join(target, 'evil')), 'unpackImage leaves cleanup to the caller');
});

test('unpackImageAtomic renames into place and returns stats', async () => {
  const img = await image([[{ name: 'f', data: 'x' }]]);
  const base = tempDir();
  const target = path.join(base, 'nested', 'rootfs');
  const stats = await unpackImageAtomic(img, target);
  assert.is(stats.files, 1);
  assert.equal(readdirSync(path.dirname(target)), ['rootfs']);
  assert.is(readFileSync(path.join(target, 'f'), 'utf8'), 'x');
});

test('options are validated', async () => {
  const img = await image([[{ name: 'f', data: 'x' }]]);
  await rejects(unpackImage(img, dest(), { owner: 'root' as never }), 'ERR_INVALID_OPTIONS');
  await rejects(unpackImage({} as ResolvedImage, dest()), 'ERR_INVALID_OPTIONS');
});

/** Runs `sh -c script` in `dir` (GNU find and friends walk deep trees with relative paths). */
const sh = (dir: string, script: string) =>
  execFileSync('sh', ['-c', script], { cwd: dir, encoding: 'utf8' });

test('a layer with 1,000 nested directories (paths far beyond PATH_MAX) unpacks, layers over it apply, and the tree is removed', async () => {
  const comps = Array.from({ length: 1000 }, (_, i) => `dir-${String(i).padStart(4, '0')}`);
  const at = (n: number) => comps.slice(0, n).join('/');
  const deep = at(1000);
  assert.ok(Buffer.byteLength(deep) > 8000, 'longer than PATH_MAX, twice');
  const first: TarSpec[] = comps.map((_, i) => ({
    name: `${at(i + 1)}/`,
    type: 'dir',
    mode: i === 999 ? 0o555 : 0o755,
    mtime: 1_000_000 + i,
  }));
  first.push(
    { name: `${deep}/leaf`, data: 'at the bottom\n', mode: 0o640 },
    { name: `${deep}/link`, type: 'symlink', linkname: 'leaf' },
    { name: `${deep}/hard`, type: 'link', linkname: `${deep}/leaf` },
    { name: `${deep}/gone`, data: 'whited out later\n' },
    // an absolute symlink deep down; a later entry through it must land inside the rootfs
    { name: `${at(600)}/to-root`, type: 'symlink', linkname: '/' },
    { name: `${at(700)}/sub/`, type: 'dir' },
    { name: `${at(700)}/sub/old`, data: 'removed with its directory\n' },
  );
  const second: TarSpec[] = [
    { name: `${deep}/.wh.gone`, data: '' },
    { name: `${at(600)}/to-root/escaped`, data: 'inside\n' },
    // a directory 700 deep replaced by a file: its subtree is removed
    { name: `${at(700)}`, data: 'now a file\n' },
    { name: `${at(300)}/.wh..wh..opq`, data: '' },
    { name: `${at(300)}/fresh`, data: 'after the opaque whiteout\n' },
  ];
  const img = await image([first, [...second.slice(0, 3)], second.slice(3)]);
  const root = dest();
  const stats = await unpackImage(img, root);
  assert.is(stats.directories, 1000 + 1);
  // the opaque whiteout at depth 300 cleared everything below it from the lower layers
  assert.is(sh(root, `cd ${at(300).split('/').slice(0, 100).join('/')} && ls`).trim(), 'dir-0100');
  const found = sh(root, 'find . -name fresh -o -name leaf | sort');
  assert.is(found, `./${at(300)}/fresh\n`);
  assert.is(readFileSync(path.join(root, 'escaped'), 'utf8'), 'inside\n');

  // the same bottom, with nothing removed above it: every kind of entry, modes and mtimes
  const whole = await image([first, [{ name: `${deep}/.wh.gone`, data: '' }]]);
  const r2 = dest();
  await unpackImage(whole, r2);
  const bottom = sh(
    r2,
    `find . -path '*/dir-0999/*' -printf '%f %y %m %n %l\\n' | sort; find . -name dir-0999 -printf '%m %T@\\n'`,
  );
  assert.is(
    bottom,
    ['hard f 640 2 ', 'leaf f 640 2 ', 'link l 777 1 leaf', '555 1000999.0000000000', ''].join(
      '\n',
    ),
  );
  assert.is(sh(r2, 'find . -name leaf -execdir cat {} \\;'), 'at the bottom\n');

  // removeTree (cache clean, a failed unpack) handles it, read-only directory included
  await removeTree(r2);
  assert.not.ok(existsSync(r2));
  // a failed atomic unpack of a deep tree leaves nothing
  const broken = await image([first, [{ name: `${deep}/x`, type: 'link', linkname: 'nowhere' }]]);
  const r3 = dest();
  await rejects(unpackImageAtomic(broken, r3), 'ERR_IMAGE_LAYER_INVALID');
  assert.equal(readdirSync(path.dirname(r3)), []);
});

test.run();
