/**
 * The malicious corpus: each case plants a victim directory beside the rootfs (moby's
 * testBreakout) and checks that nothing outside the rootfs was created, changed or removed,
 * whether the unpack succeeds (in-root resolution) or is refused.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { isBerthError } from '@berth-oci/errors';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveImage } from '../src/resolve.js';
import { unpackImage, unpackImageAtomic } from '../src/unpack/unpack.js';
import { type LayerDesc, Layout, sha256 } from './helpers/layout.js';
import { entryBlocks, makeTar, type TarSpec } from './helpers/tar-writer.js';
import { type Arena, assertNoBreakout, makeArena, snapshot } from './helpers/victim.js';

type Layers = ReadonlyArray<ReadonlyArray<TarSpec | Buffer> | LayerDesc>;

interface Outcome {
  arena: Arena;
  error: (Error & { code?: string }) | undefined;
}

/** Unpacks `layers` (atomic or not) next to a victim and checks for a breakout. */
async function attempt(
  layers: Layers | ((a: Arena, l: Layout) => Layers),
  opts: { atomic?: boolean } = {},
): Promise<Outcome> {
  const arena = makeArena();
  const l = new Layout(path.join(arena.base, 'layout'));
  const specs = typeof layers === 'function' ? layers(arena, l) : layers;
  const img = await resolveImage(l.single(specs));
  let error: Outcome['error'];
  try {
    if (opts.atomic) await unpackImageAtomic(img, arena.rootfs);
    else await unpackImage(img, arena.rootfs);
  } catch (e) {
    if (!isBerthError(e)) throw e;
    error = e;
  }
  assertNoBreakout(arena);
  return { arena, error };
}

function ok(o: Outcome): Arena {
  assert.is(o.error, undefined, `unexpected error: ${o.error?.message}`);
  return o.arena;
}

function refused(o: Outcome, code = 'ERR_IMAGE_LAYER_INVALID'): Arena {
  assert.ok(o.error, 'the layer was refused');
  assert.is(o.error?.code, code, o.error?.message);
  return o.arena;
}

const inRoot = (a: Arena, rel: string): string => path.join(a.rootfs, rel);
const payload = 'pwned\n';

// ---- names ----

test('../ names are clamped inside the rootfs', async () => {
  const a = ok(
    await attempt([
      [
        { name: '../victim/hello', data: payload },
        { name: '../../pwned', data: payload },
        { name: 'a/../../victim/new', data: payload },
        { name: '..', type: 'dir' },
        { name: '../', type: 'dir' },
      ],
    ]),
  );
  assert.is(readFileSync(inRoot(a, 'victim/hello'), 'utf8'), payload);
  assert.ok(existsSync(inRoot(a, 'pwned')));
  assert.ok(existsSync(inRoot(a, 'victim/new')));
});

test('bare .. as a file is refused (it would change the root type)', async () => {
  refused(await attempt([[{ name: '..', data: payload }]]));
});

test('absolute names land inside the rootfs', async () => {
  const a = ok(
    await attempt((ar) => [
      [
        { name: `${ar.victim}/hello`, data: payload },
        { name: '/etc/berth-test', data: payload },
      ],
    ]),
  );
  assert.ok(existsSync(path.join(a.rootfs, a.victim, 'hello')));
  assert.ok(existsSync(inRoot(a, 'etc/berth-test')));
});

test('names hidden in PAX path and GNU long names', async () => {
  const a = ok(
    await attempt((ar) => [
      [
        {
          name: '../victim/hello',
          headerName: 'innocent',
          pax: { path: '../victim/hello' },
          data: payload,
        },
        { name: `${'../'.repeat(40)}victim/gnu`, gnuLongName: true, data: payload },
        {
          name: `${ar.victim}/pax-abs`,
          headerName: 'innocent2',
          pax: { path: `${ar.victim}/pax-abs` },
          data: payload,
        },
      ],
    ]),
  );
  assert.ok(existsSync(inRoot(a, 'victim/hello')));
  assert.ok(existsSync(inRoot(a, 'victim/gnu')));
  assert.ok(!existsSync(inRoot(a, 'innocent')));
});

// ---- symlinks ----

test('symlink then write through it (same layer)', async () => {
  const a = ok(
    await attempt([
      [
        { name: 'link', type: 'symlink', linkname: '../victim' },
        { name: 'link/hello', data: payload },
      ],
    ]),
  );
  assert.is(readlinkSync(inRoot(a, 'link')), '../victim', 'link kept verbatim');
  assert.is(
    readFileSync(inRoot(a, 'victim/hello'), 'utf8'),
    payload,
    'write resolved with the rootfs as /',
  );
});

test('symlink then write through it (across layers, absolute host path)', async () => {
  const a = ok(
    await attempt((ar) => [
      [{ name: 'link', type: 'symlink', linkname: ar.victim }],
      [
        { name: 'link/hello', data: payload },
        { name: 'link/new', data: payload },
      ],
    ]),
  );
  assert.ok(existsSync(path.join(a.rootfs, a.victim, 'hello')));
});

test('two-hop symlink chain (moby TestUntarSymlinkBreakout)', async () => {
  ok(
    await attempt([
      [
        { name: 'inner/', type: 'dir' },
        { name: 'inner/go_up', type: 'symlink', linkname: '..' },
        { name: 'inner/go_up/escape', type: 'symlink', linkname: '../victim' },
        { name: 'escape/hello', data: payload },
        { name: 'inner/go_up/escape/more', data: payload },
      ],
    ]),
  );
});

test('absolute link to / and writes below it', async () => {
  const marker = `berth-pwned-${randomBytes(6).toString('hex')}`;
  const a = ok(
    await attempt((ar) => [
      [{ name: 'root', type: 'symlink', linkname: '/' }],
      [
        { name: `root/tmp/${marker}`, data: payload },
        { name: `root${ar.victim}/hello`, data: payload },
        { name: 'root/../../victim/hello2', data: payload },
      ],
    ]),
  );
  assert.not.ok(existsSync(`/tmp/${marker}`), 'nothing written on the host /tmp');
  assert.ok(existsSync(inRoot(a, `tmp/${marker}`)));
});

test('symlink named . or / (CVE-2021-29136) is refused', async () => {
  refused(
    await attempt([
      [{ name: '.', type: 'symlink', linkname: '/' }],
      [{ name: 'victim/hello', data: payload }],
    ]),
  );
  refused(await attempt([[{ name: '/', type: 'symlink', linkname: '../victim' }]]));
});

test('directory replaced by a symlink, then write (directory-cache poisoning)', async () => {
  const a = ok(
    await attempt([
      [
        { name: 'd/', type: 'dir' },
        { name: 'd/x', data: 'cached' },
        { name: 'd', type: 'symlink', linkname: '../victim' },
        { name: 'd/hello', data: payload },
      ],
    ]),
  );
  assert.ok(lstatSync(inRoot(a, 'd')).isSymbolicLink());
  assert.is(readFileSync(inRoot(a, 'victim/hello'), 'utf8'), payload);
  const b = ok(
    await attempt((ar) => [
      [
        { name: 'd/', type: 'dir' },
        { name: 'd/sub/', type: 'dir' },
        { name: 'd/sub/x', data: 'x' },
      ],
      [
        { name: 'd', type: 'symlink', linkname: ar.base },
        { name: 'd/sub', type: 'symlink', linkname: ar.victim },
        { name: 'd/victim/hello', data: payload },
        { name: 'd/sub/hello', data: payload },
      ],
    ]),
  );
  assert.ok(existsSync(path.join(b.rootfs, b.victim, 'hello')));
});

test('symlink loops stop at 40 hops', async () => {
  const o = refused(
    await attempt([
      [
        { name: 'a', type: 'symlink', linkname: 'b' },
        { name: 'b', type: 'symlink', linkname: 'a' },
        { name: 'a/x', data: payload },
      ],
    ]),
  );
  assert.ok(o);
});

test('a file over an existing symlink replaces the link, never writes through it', async () => {
  const a = ok(
    await attempt((ar) => [
      [{ name: 'hello', type: 'symlink', linkname: ar.hello }],
      [{ name: 'hello', data: payload }],
    ]),
  );
  assert.ok(lstatSync(inRoot(a, 'hello')).isFile());
});

// ---- hardlinks ----

test('hardlink to outside is refused', async () => {
  refused(await attempt([[{ name: 'hl', type: 'link', linkname: '../victim/hello' }]]));
});

test('hardlink via a symlinked parent resolves inside (and fails: nothing there)', async () => {
  refused(
    await attempt((ar) => [
      [
        { name: 'sl', type: 'symlink', linkname: ar.victim },
        { name: 'hl', type: 'link', linkname: 'sl/hello' },
      ],
    ]),
  );
  refused(
    await attempt([
      [
        { name: 'sl', type: 'symlink', linkname: '../victim' },
        { name: 'hl', type: 'link', linkname: 'sl/hello' },
      ],
    ]),
  );
});

test("hardlink to a symlink, then chmod: the symlink's target is untouched", async () => {
  const a = ok(
    await attempt((ar) => [
      [
        { name: 's', type: 'symlink', linkname: ar.hello },
        { name: 'h', type: 'link', linkname: 's', mode: 0o777, uid: 1234 },
        { name: 'r', type: 'symlink', linkname: '../victim/hello' },
        { name: 'h2', type: 'link', linkname: 'r', mode: 0o6777 },
      ],
      [{ name: 'h', type: 'link', linkname: 's', mode: 0o777 }],
    ]),
  );
  assert.ok(
    lstatSync(inRoot(a, 'h')).isSymbolicLink(),
    'the hardlink is a link to the symlink itself',
  );
});

test('a sibling whose name has the rootfs as prefix is never reached (moby TestUntarSiblingPrefixContained)', async () => {
  const plant = (ar: Arena) => {
    const sibling = `${ar.rootfs}-evil`;
    mkdirSync(sibling);
    writeFileSync(path.join(sibling, 'secret'), 'secret\n');
    ar.before = snapshot(ar.base);
    return sibling;
  };
  refused(
    await attempt((ar) => {
      plant(ar);
      return [[{ name: 'hl', type: 'link', linkname: '../rootfs-evil/secret' }]];
    }),
  );
  refused(
    await attempt((ar) => {
      const sibling = plant(ar);
      return [[{ name: 'hl', type: 'link', linkname: `${sibling}/secret` }]];
    }),
  );
  const a = ok(
    await attempt((ar) => {
      const sibling = plant(ar);
      return [
        [
          { name: '../rootfs-evil/new', data: payload },
          { name: `${ar.rootfs}/../rootfs-evil/abs`, data: payload },
          { name: 'up', type: 'symlink', linkname: '../rootfs-evil' },
          { name: 'up/through', data: payload },
          { name: 'abs', type: 'symlink', linkname: sibling },
          { name: 'abs/through', data: payload },
        ],
      ];
    }),
  );
  assert.is(readFileSync(inRoot(a, 'rootfs-evil/new'), 'utf8'), payload);
  assert.ok(existsSync(inRoot(a, 'rootfs-evil/through')));
  assert.not.ok(existsSync(`${a.rootfs}-evil/new`));
  assert.not.ok(existsSync(`${a.rootfs}-evil/through`));
});

// ---- whiteouts ----

test('whiteout ., .. and empty names are refused', async () => {
  for (const name of ['.wh..', '.wh...', '.wh.', 'sub/.wh..', 'sub/.wh...']) {
    refused(await attempt([[{ name: 'sub/', type: 'dir' }], [{ name, data: '' }]]));
  }
});

test('whiteout through a symlinked parent stays inside', async () => {
  const a = ok(
    await attempt((ar) => [
      [
        { name: 'sl', type: 'symlink', linkname: ar.victim },
        { name: 'rel', type: 'symlink', linkname: '../victim' },
        { name: 'up', type: 'symlink', linkname: '..' },
      ],
      [
        { name: 'sl/.wh.hello', data: '' },
        { name: 'rel/.wh.hello', data: '' },
        { name: 'up/victim/.wh.hello', data: '' },
        { name: '../victim/.wh.hello', data: '' },
        { name: 'rel/.wh..wh..opq', data: '' },
        { name: 'up/.wh..wh..opq', data: '' },
      ],
    ]),
  );
  assert.ok(existsSync(a.hello));
});

test('whiteout of a symlink removes the link, not its target', async () => {
  const a = ok(
    await attempt((ar) => [
      [
        { name: 'sl', type: 'symlink', linkname: ar.victim },
        { name: 'inside/', type: 'dir' },
        { name: 'inside/f', data: 'f' },
        { name: 'ln', type: 'symlink', linkname: 'inside' },
      ],
      [
        { name: '.wh.sl', data: '' },
        { name: '.wh.ln', data: '' },
      ],
    ]),
  );
  assert.not.ok(existsSync(inRoot(a, 'sl')));
  assert.ok(existsSync(inRoot(a, 'inside/f')));
});

// ---- format faults ----

function rawLayer(l: Layout, tar: Buffer, gzip: Buffer | undefined): LayerDesc {
  const stored = gzip ?? tar;
  const b = l.blob(stored);
  return {
    mediaType: gzip
      ? 'application/vnd.oci.image.layer.v1.tar+gzip'
      : 'application/vnd.oci.image.layer.v1.tar',
    digest: b.digest,
    size: b.size,
    diffId: sha256(tar),
  };
}

test('truncated gzip is refused and nothing survives (atomic)', async () => {
  const o = await attempt(
    (_a, l) => {
      const tar = makeTar([{ name: 'f', data: randomBytes(50_000) }]);
      const gz = gzipSync(tar);
      return [[{ name: 'first', data: 'x' }], rawLayer(l, tar, gz.subarray(0, gz.length - 100))];
    },
    { atomic: true },
  );
  refused(o);
  assert.not.ok(existsSync(o.arena.rootfs));
});

test('truncated tar is refused and nothing survives (atomic)', async () => {
  // cut inside f's data and inside g's header (2560, after g's last block, is a complete
  // archive without its end-of-archive marker: see tar-reader.test.ts)
  for (const cut of [700, 1536 + 200]) {
    const o = await attempt(
      (_a, l) => {
        const tar = makeTar([
          { name: 'f', data: 'x'.repeat(1000) },
          { name: 'g', data: 'y' },
        ]);
        const cutTar = tar.subarray(0, cut);
        return [rawLayer(l, cutTar, undefined)];
      },
      { atomic: true },
    );
    refused(o);
    assert.not.ok(existsSync(o.arena.rootfs));
  }
});

test('bad header checksum is refused', async () => {
  refused(
    await attempt(
      (_a, l) => {
        const tar = makeTar([
          { name: 'ok', data: 'x' },
          { name: 'bad', data: 'y', badChecksum: true },
        ]);
        return [rawLayer(l, tar, gzipSync(tar))];
      },
      { atomic: true },
    ),
  );
});

test('a PAX global header creates nothing (moby TestXGlobalNoParent)', async () => {
  const a = ok(
    await attempt([
      [
        Buffer.concat([
          (await import('./helpers/tar-writer.js')).globalHeader({ path: 'foo/' }),
          entryBlocks({ name: 'bar', data: 'b' }),
        ]),
      ],
    ]),
  );
  assert.not.ok(existsSync(inRoot(a, 'foo')));
  assert.ok(existsSync(inRoot(a, 'bar')));
});

test('a tampered layer is refused before anything is written', async () => {
  const o = await attempt((_a, l) => {
    const good = l.layer([{ name: 'victim/hello', data: payload }]);
    const data = readFileSync(l.blobPath(good.digest));
    truncateSync(l.blobPath(good.digest), data.length - 1);
    return [good];
  });
  refused(o, 'ERR_IMAGE_SIZE_MISMATCH');
  assert.not.ok(existsSync(o.arena.rootfs));
});

test("Tianon's badtars: an empty name is refused; duplicates: the last one wins", async () => {
  refused(await attempt([[{ name: '', data: 'x', headerName: '' }]]));
  const a = ok(
    await attempt([
      [
        { name: 'dup', data: 'first\n' },
        { name: 'dup', data: 'second\n' },
        { name: 'twice', data: 'file' },
        { name: 'twice/', type: 'dir' },
        { name: 'twice/inner', data: 'inner\n' },
      ],
    ]),
  );
  assert.is(readFileSync(inRoot(a, 'dup'), 'utf8'), 'second\n');
  assert.is(readFileSync(inRoot(a, 'twice/inner'), 'utf8'), 'inner\n');
});

test('a FIFO planted as a blob is refused without blocking', async () => {
  const o = await attempt((_a, l) => {
    const good = l.layer([{ name: 'f', data: payload }]);
    rmSync(l.blobPath(good.digest));
    execFileSync('mkfifo', [l.blobPath(good.digest)]);
    return [good];
  });
  refused(o, 'ERR_IMAGE_LAYOUT_INVALID');
  assert.match(o.error?.message ?? '', /not a regular file/);
  assert.not.ok(existsSync(o.arena.rootfs));
});

test.run();
