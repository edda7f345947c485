import { mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  hasSifMagic,
  isSifFile,
  isSigned,
  readSif,
  SIF_DESCRIPTOR_SIZE,
  type SifImage,
  systemPartition,
} from '../src/transports/sif.js';

/** The reference implementation's test images (Debian's golang-github-sylabs-sif-dev). */
const IMAGES = '/usr/share/gocode/src/github.com/sylabs/sif/test/images';
const image = (name: string) => path.join(IMAGES, name);

let dir = '';
test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-sif-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A copy of a test image, changed by `edit` (offsets into the file). */
async function damaged(name: string, edit: (b: Buffer) => Buffer | undefined): Promise<string> {
  const out = path.join(dir, `${name}-${Math.random().toString(36).slice(2)}`);
  const b = await readFile(image('one-group.sif'));
  await writeFile(out, edit(b) ?? b);
  return out;
}

async function refused(file: string, re: RegExp, code = 'ERR_IMAGE_ARCHIVE_INVALID') {
  try {
    systemPartition(await readSif(file));
  } catch (e) {
    const err = e as Error & { code?: string };
    assert.is(err.code, code, err.message);
    assert.match(err.message, re);
    assert.ok(err.message.includes(file), `names the file: ${err.message}`);
    return;
  }
  assert.unreachable(`${file} was accepted`);
}

/** The byte offset of the used descriptor `n` (0-based) of one-group.sif. */
async function descriptorAt(n: number): Promise<number> {
  const b = await readFile(image('one-group.sif'));
  return Number(b.readBigInt64LE(96)) + n * SIF_DESCRIPTOR_SIZE;
}

test('every test image of the reference implementation is read', async () => {
  const names = [
    'empty.sif',
    'empty-id.sif',
    'empty-launch-script.sif',
    'one-group.sif',
    'one-group-signed.sif',
    'one-group-signed-legacy.sif',
    'two-groups.sif',
    'two-groups-signed.sif',
    'one-object-generic-json.sif',
    'one-object-crypt-message.sif',
    'one-object-sbom.sif',
    'one-object-time.sif',
  ];
  for (const name of names) {
    const sif = await readSif(image(name));
    assert.is(sif.version, '01', name);
    assert.ok(await isSifFile(image(name)), name);
  }
  assert.is((await readSif(image('empty.sif'))).objects.length, 0);
  assert.equal(
    (await readSif(image('one-object-sbom.sif'))).objects.map((o) => o.type),
    ['sbom'],
  );
});

test('one-group.sif: a raw system partition and a squashfs primary one, unsigned', async () => {
  const sif: SifImage = await readSif(image('one-group.sif'));
  const parts = sif.objects.filter((o) => o.type === 'partition');
  assert.equal(
    parts.map((p) => [p.fsType, p.partType, p.arch, p.group]),
    [
      ['raw', 'system', '386', 1],
      ['squashfs', 'primary-system', '386', 1],
    ],
  );
  const system = systemPartition(sif);
  assert.is(system.fsType, 'squashfs');
  // the object is where the descriptor says: a squashfs superblock starts with "hsqs"
  const h = await open(image('one-group.sif'), 'r');
  const head = Buffer.alloc(4);
  await h.read(head, 0, 4, system.offset);
  await h.close();
  assert.is(head.toString('latin1'), 'hsqs');
  assert.not.ok(isSigned(sif));
});

test('signed images are seen as signed; the signature links its object or group', async () => {
  const sif = await readSif(image('one-group-signed.sif'));
  assert.ok(isSigned(sif));
  const sig = sif.objects.find((o) => o.type === 'signature');
  assert.ok(sig && sig.link !== 0);
  assert.ok(isSigned(await readSif(image('two-groups-signed.sif'))));
});

test('two-groups.sif: the primary partition is chosen over the ext3 one of group 2', async () => {
  const sif = await readSif(image('two-groups.sif'));
  const ext3 = sif.objects.find((o) => o.fsType === 'ext3');
  assert.is(ext3?.group, 2);
  assert.is(systemPartition(sif).fsType, 'squashfs');
});

test('images without a runnable partition are refused naming the file', async () => {
  for (const name of ['empty.sif', 'one-object-crypt-message.sif']) {
    await refused(image(name), /has no system partition/, 'ERR_IMAGE_LAYER_UNSUPPORTED');
  }
});

test('the magic: SIF files are recognised by content, nothing else is', async () => {
  assert.not.ok(hasSifMagic(Buffer.from('not a sif')));
  assert.not.ok(await isSifFile('/etc/hostname'));
  assert.not.ok(await isSifFile('/no/such/file'));
  await refused(
    await damaged('magic', (b) => {
      b.write('SIF_MAGIX', 32, 'latin1');
      return b;
    }),
    /no SIF magic/,
  );
});

test('damaged headers and descriptors are refused before anything is read from them', async () => {
  // cut short: in the header, in the descriptor table, in the data
  for (const [size, re] of [
    [60, /header is cut short/],
    [5000, /descriptor table runs past the end/],
    [31000, /descriptor table runs past the end/],
  ] as const) {
    const f = await damaged(`cut-${size}`, () => undefined);
    await truncate(f, size);
    await refused(f, re);
  }
  const f = await damaged('cut-data', () => undefined);
  const full = (await readFile(f)).length;
  await truncate(f, full - 100);
  await refused(f, /runs past the end of the file/);

  const d1 = await descriptorAt(1);
  const cases: [string, (b: Buffer) => void, RegExp][] = [
    ['version', (b) => b.write('02', 42, 'latin1'), /unsupported SIF version "02"/],
    ['no descriptors', (b) => b.writeBigInt64LE(0n, 88), /0 descriptors/],
    ['many descriptors', (b) => b.writeBigInt64LE(1n << 40n, 88), /descriptors \(1\.\.4096/],
    ['negative count', (b) => b.writeBigInt64LE(-1n, 88), /descriptor count is -1/],
    ['table in header', (b) => b.writeBigInt64LE(16n, 96), /overlaps the header/],
    ['offset outside', (b) => b.writeBigInt64LE(1n << 50n, d1 + 17), /past the end/],
    ['negative offset', (b) => b.writeBigInt64LE(-5n, d1 + 17), /offset of object 2 is -5/],
    ['huge size', (b) => b.writeBigInt64LE(1n << 62n, d1 + 25), /size of object 2 is/],
    ['object over table', (b) => b.writeBigInt64LE(200n, d1 + 17), /overlaps the header/],
    ['repeated id', (b) => b.writeUInt32LE(1, d1 + 5), /repeated id/],
  ];
  for (const [name, edit, re] of cases) {
    await refused(
      await damaged(name, (b) => {
        edit(b);
        return b;
      }),
      re,
    );
  }
});

test('an encrypted or non-squashfs system partition is refused with the reason', async () => {
  const d1 = await descriptorAt(1);
  await refused(
    await damaged('encrypted', (b) => {
      b.writeInt32LE(5, d1 + 201);
      return b;
    }),
    /is encrypted: berth cannot decrypt/,
    'ERR_IMAGE_LAYER_UNSUPPORTED',
  );
  await refused(
    await damaged('ext3', (b) => {
      b.writeInt32LE(2, d1 + 201);
      return b;
    }),
    /system partition is ext3, not squashfs/,
    'ERR_IMAGE_LAYER_UNSUPPORTED',
  );
});

test.run();
