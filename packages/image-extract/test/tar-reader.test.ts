import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { isBerthError } from '@berth-oci/errors';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type TarEntry, TarReader } from '../src/unpack/tar-reader.js';
import { tempDir } from './helpers/layout.js';
import { globalHeader, makeTar, type TarSpec } from './helpers/tar-writer.js';

interface Got extends TarEntry {
  content?: string;
}

function read(tar: Buffer, chunkSize = tar.length): Got[] {
  const out: Got[] = [];
  let cur: Got | undefined;
  let parts: Buffer[] = [];
  const reader = new TarReader(
    {
      entry(e) {
        cur = { ...e };
        out.push(cur);
        parts = [];
      },
      data(chunk) {
        parts.push(Buffer.from(chunk));
      },
      end() {
        (cur as Got).content = Buffer.concat(parts).toString();
      },
    },
    'test',
  );
  for (let i = 0; i < tar.length; i += chunkSize) reader.write(tar.subarray(i, i + chunkSize));
  reader.end();
  return out;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isBerthError(e) ? e.code : `not a BerthError: ${String(e)}`;
  }
  return undefined;
}

const specs: TarSpec[] = [
  { name: 'dir/', type: 'dir', mode: 0o750, uid: 1, gid: 2 },
  { name: 'dir/file', data: 'hello\n', mode: 0o4755, mtime: 1234 },
  { name: 'dir/link', type: 'symlink', linkname: '../target' },
  { name: 'dir/hard', type: 'link', linkname: 'dir/file' },
  { name: 'dir/fifo', type: 'fifo' },
  { name: `long/${'x'.repeat(150)}/file`, data: 'pax name' },
  { name: `gnu/${'y'.repeat(150)}/file`, data: 'gnu name', gnuLongName: true },
  { name: 'big', data: Buffer.alloc(3000, 0x61) },
];

test('reads ustar, PAX and GNU entries with data', () => {
  const got = read(makeTar(specs));
  assert.equal(
    got.map((e) => [e.type, e.name]),
    [
      ['dir', 'dir/'],
      ['file', 'dir/file'],
      ['symlink', 'dir/link'],
      ['link', 'dir/hard'],
      ['fifo', 'dir/fifo'],
      ['file', `long/${'x'.repeat(150)}/file`],
      ['file', `gnu/${'y'.repeat(150)}/file`],
      ['file', 'big'],
    ],
  );
  assert.is(got[0]?.mode, 0o750);
  assert.is(got[0]?.uid, 1);
  assert.is(got[0]?.gid, 2);
  assert.is(got[1]?.mode, 0o4755);
  assert.is(got[1]?.mtime, 1234);
  assert.is(got[1]?.content, 'hello\n');
  assert.is(got[2]?.linkname, '../target');
  assert.is(got[3]?.linkname, 'dir/file');
  assert.is(got[5]?.content, 'pax name');
  assert.is(got[6]?.content, 'gnu name');
  assert.is(got[7]?.content, 'a'.repeat(3000));
});

test('gives the same result whatever the chunk boundaries', () => {
  const tar = makeTar(specs);
  const whole = read(tar);
  for (const size of [1, 7, 511, 512, 513, 4096])
    assert.equal(read(tar, size), whole, `chunk size ${size}`);
});

test('PAX records override size, uid, gid, mtime and linkpath', () => {
  const got = read(
    makeTar([
      {
        name: 'f',
        data: 'x',
        pax: { uid: '3000000', gid: '4000000', mtime: '1700000000.5', 'SCHILY.xattr.user.a': 'b' },
      },
      { name: 'l', type: 'symlink', linkname: 'short', pax: { linkpath: `/${'z'.repeat(200)}` } },
      { name: 'k', type: 'symlink', linkname: `/${'k'.repeat(200)}`, gnuLongLink: true },
    ]),
  );
  assert.is(got[0]?.uid, 3000000);
  assert.is(got[0]?.gid, 4000000);
  assert.is(got[0]?.mtime, 1700000000.5);
  assert.is(got[0]?.xattrs, 1);
  assert.is(got[1]?.linkname, `/${'z'.repeat(200)}`);
  assert.is(got[2]?.linkname, `/${'k'.repeat(200)}`);
});

test('PAX global headers are metadata only', () => {
  const got = read(makeTar([globalHeader({ path: 'foo/' }), { name: 'bar', data: 'b' }]));
  assert.equal(
    got.map((e) => e.name),
    ['bar'],
  );
});

test('PAX path wins over the ustar name; a GNU long name wins over PAX', () => {
  const got = read(
    makeTar([{ name: 'real', headerName: 'decoy', pax: { path: 'real' }, data: '' }]),
  );
  assert.is(got[0]?.name, 'real');
});

test('base-256 numeric fields', () => {
  const tar = makeTar([{ name: 'f', data: 'x' }]);
  // uid field (offset 108, 8 bytes) as base-256: 0x80 then 7 bytes big-endian
  tar.fill(0, 108, 116);
  tar[108] = 0x80;
  tar.writeUInt32BE(5_000_000, 112);
  // recompute the checksum
  tar.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += tar[i] as number;
  tar.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  assert.is(read(tar)[0]?.uid, 5_000_000);
});

test('bad checksum, truncation and unknown types are errors', () => {
  assert.is(
    code(() => read(makeTar([{ name: 'f', data: 'x', badChecksum: true }]))),
    'ERR_IMAGE_LAYER_INVALID',
  );
  const tar = makeTar([{ name: 'f', data: 'x'.repeat(1000) }]);
  assert.is(
    code(() => read(tar.subarray(0, 700))),
    'ERR_IMAGE_LAYER_INVALID',
    'cut in data',
  );
  assert.is(
    code(() => read(tar.subarray(0, 300))),
    'ERR_IMAGE_LAYER_INVALID',
    'cut in a header',
  );
  assert.is(
    code(() => read(makeTar([{ name: 's', typeflag: 'S', data: '' }]))),
    'ERR_IMAGE_LAYER_UNSUPPORTED',
  );
  assert.is(
    code(() => read(makeTar([{ name: 'v', typeflag: 'V', data: '' }]))),
    'ERR_IMAGE_LAYER_UNSUPPORTED',
  );
  assert.is(
    code(() => read(makeTar([{ name: 'f', data: 'x', pax: { 'GNU.sparse.major': '1' } }]))),
    'ERR_IMAGE_LAYER_UNSUPPORTED',
  );
  assert.is(
    code(() => read(makeTar([{ name: 'f', data: 'x', pax: { size: 'abc' } }]))),
    'ERR_IMAGE_LAYER_INVALID',
  );
  // a zero block followed by a header
  const zeroThenHeader = Buffer.concat([Buffer.alloc(512), makeTar([{ name: 'f', data: 'x' }])]);
  assert.is(
    code(() => read(zeroThenHeader)),
    'ERR_IMAGE_LAYER_INVALID',
  );
});

test('an archive that ends at a member boundary without its end-of-archive marker is complete', () => {
  // as umoci 0.4.7's `insert` writes layers: the members, then nothing
  const bare = makeTar(
    [
      { name: 'dir/', type: 'dir' },
      { name: 'dir/file', data: 'x'.repeat(1000) },
      { name: 'dir/empty', data: '' },
      { name: 'dir/link', type: 'symlink', linkname: 'file' },
      { name: `long/${'z'.repeat(150)}`, data: 'pax' },
    ],
    { trailer: false },
  );
  for (const chunk of [bare.length, 512, 100, 1]) {
    const got = read(bare, chunk);
    assert.equal(
      got.map((e) => e.name),
      ['dir/', 'dir/file', 'dir/empty', 'dir/link', `long/${'z'.repeat(150)}`],
      `chunks of ${chunk}`,
    );
    assert.is(got[1]?.content, 'x'.repeat(1000));
    assert.is(got[4]?.content, 'pax');
  }
  // a member whose data fills its last block exactly, then the end
  assert.is(read(makeTar([{ name: 'f', data: 'y'.repeat(1024) }], { trailer: false })).length, 1);
  // the last member's data without its padding (umoci 0.4.7 writes exactly this)
  const unpadded = makeTar(
    [
      { name: 'd/', type: 'dir' },
      { name: 'd/f', data: 'hi\n' },
    ],
    {
      trailer: false,
    },
  ).subarray(0, 1024 + 3);
  for (const chunk of [unpadded.length, 1]) {
    const got = read(unpadded, chunk);
    assert.equal(
      got.map((e) => [e.name, e.content]),
      [
        ['d/', undefined],
        ['d/f', 'hi\n'],
      ],
    );
  }
});

test('an archive cut inside a header, inside data, or after a metadata header is truncated', () => {
  const tar = makeTar(
    [
      { name: 'f', data: 'x'.repeat(1000) },
      { name: 'g', data: 'y' },
    ],
    { trailer: false },
  );
  // f: header 0-512, data 512-1512, padding to 1536; g: header 1536-2048, data 2048-2049
  for (const [cut, what] of [
    [1, 'inside the first header'],
    [511, 'inside the first header'],
    [700, 'inside data'],
    [1600, 'inside the second header'],
    [2048, 'before data'],
  ] as const) {
    for (const chunk of [cut, 512, 7]) {
      const e = (() => {
        try {
          read(tar.subarray(0, cut), chunk);
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      assert.ok(isBerthError(e), `cut at ${cut} (${what}), chunks of ${chunk}: refused`);
      assert.is((e as { code: string }).code, 'ERR_IMAGE_LAYER_INVALID');
      assert.match((e as Error).message, /truncated/, `cut at ${cut}: says truncated`);
    }
  }
  // a PAX header (or a GNU long name) whose member never comes
  const paxOnly = makeTar([{ name: `p/${'n'.repeat(150)}`, data: 'x' }], { trailer: false });
  assert.is(
    code(() => read(paxOnly.subarray(0, 1024))),
    'ERR_IMAGE_LAYER_INVALID',
    'PAX alone',
  );
  const gnuOnly = makeTar([{ name: `g/${'n'.repeat(150)}`, data: 'x', gnuLongName: true }], {
    trailer: false,
  });
  assert.is(
    code(() => read(gnuOnly.subarray(0, 1024))),
    'ERR_IMAGE_LAYER_INVALID',
    'L alone',
  );
  // a PAX global header alone is metadata only: an (empty) archive
  assert.equal(read(globalHeader({ comment: 'x' })), []);
});

test('a single zero block ends the archive; bytes after the end are ignored; empty is empty', () => {
  assert.equal(read(Buffer.alloc(0)), []);
  const one = Buffer.concat([
    makeTar([{ name: 'f', data: 'x' }], { trailer: false }),
    Buffer.alloc(512),
  ]);
  assert.is(read(one).length, 1);
  const trailing = Buffer.concat([
    makeTar([{ name: 'f', data: 'x' }]),
    Buffer.from('garbage after the end'),
  ]);
  assert.is(read(trailing).length, 1);
});

test('non-UTF-8 names are refused clearly', () => {
  const tar = makeTar([{ name: 'abc', data: 'x' }]);
  tar[1] = 0xff;
  tar.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += tar[i] as number;
  tar.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  assert.is(
    code(() => read(tar)),
    'ERR_IMAGE_LAYER_INVALID',
  );
});

test('oversized PAX headers hit ERR_IMAGE_LIMIT', () => {
  const tar = makeTar([{ name: 'f', data: 'x', pax: { comment: 'c'.repeat(1 << 21) } }]);
  assert.is(
    code(() => read(tar)),
    'ERR_IMAGE_LIMIT',
  );
});

function hasGnuTar(): boolean {
  try {
    return execFileSync('tar', ['--version'], { encoding: 'utf8' }).includes('GNU tar');
  } catch {
    return false;
  }
}

test('reads what GNU tar writes (gnu and pax formats)', () => {
  if (!hasGnuTar()) return;
  const src = tempDir();
  const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(90)}`;
  mkdirSync(path.join(src, 'tree', long), { recursive: true });
  writeFileSync(path.join(src, 'tree', long, `${'n'.repeat(120)}.txt`), 'deep');
  writeFileSync(path.join(src, 'tree', 'small'), 'small');
  symlinkSync(`/${'t'.repeat(150)}`, path.join(src, 'tree', 'longlink'));
  for (const format of ['gnu', 'pax']) {
    const tar = execFileSync('tar', ['-C', src, `--format=${format}`, '-cf', '-', 'tree'], {
      maxBuffer: 1 << 26,
    });
    const got = read(tar);
    const file = got.find((e) => e.name.endsWith('.txt'));
    assert.is(file?.name, `tree/${long}/${'n'.repeat(120)}.txt`, format);
    assert.is(file?.content, 'deep', format);
    assert.is(got.find((e) => e.type === 'symlink')?.linkname, `/${'t'.repeat(150)}`, format);
    assert.is(got.find((e) => e.name === 'tree/small')?.content, 'small', format);
  }
});

test.run();
