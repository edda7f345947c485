/**
 * oci-archive: and docker-archive: images, read in place (no conversion step), and the faults
 * an archive can carry.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveImage } from '../src/resolve.js';
import { unpackImageAtomic } from '../src/unpack/unpack.js';
import { rejects } from './helpers/expect.js';
import { dockerArchive, Layout, MT, sha256, tempDir, treeTar } from './helpers/layout.js';
import { makeTar } from './helpers/tar-writer.js';

const tarOf = (name: string, data: string) => makeTar([{ name, data }]);

function ociArchive(): { file: string; l: Layout; digest: string } {
  const l = new Layout();
  const a = l.image([l.layer([{ name: 'which', data: 'a\n' }])]);
  const b = l.image([
    l.layer([{ name: 'which', data: 'b\n' }]),
    l.layer([{ name: 'plain', data: 'p\n' }], { gzip: false }),
  ]);
  l.writeIndex([
    { desc: a, tag: 'a' },
    { desc: b, tag: 'b' },
  ]);
  const file = path.join(tempDir(), 'image.tar');
  writeFileSync(file, treeTar(l.dir));
  return { file, l, digest: b.digest };
}

test('oci-archive: resolved and unpacked straight from the tar', async () => {
  const { file, digest } = ociArchive();
  const img = await resolveImage(`oci-archive:${file}:b`);
  assert.is(img.manifestDigest, digest);
  assert.is(img.source.kind, 'archive');
  const d = path.join(tempDir(), 'rootfs');
  const stats = await unpackImageAtomic(img, d);
  assert.is(readFileSync(path.join(d, 'which'), 'utf8'), 'b\n');
  assert.is(readFileSync(path.join(d, 'plain'), 'utf8'), 'p\n');
  assert.is(stats.layers, 2);
  // a bare path is recognised as an oci-archive
  assert.is((await resolveImage(`${file}:a`)).ref.transport, 'oci-archive');
  await rejects(resolveImage(`oci-archive:${file}`), 'ERR_IMAGE_TAG_REQUIRED', '"a", "b"');
  await rejects(resolveImage(`oci-archive:${file}:c`), 'ERR_IMAGE_NOT_FOUND', 'no tag "c"');
});

test('oci-archive: a tampered blob inside the tar is refused, naming it, and nothing is left', async () => {
  const { file, l } = ociArchive();
  const img = await resolveImage(`oci-archive:${file}:a`);
  const layer = img.layers[0];
  assert.ok(layer);
  // flip a byte of the layer's member in place (same size)
  const data = readFileSync(file);
  const stored = readFileSync(l.blobPath(layer.digest));
  const at = data.indexOf(stored);
  assert.ok(at > 0);
  const i = at + stored.length - 5;
  data[i] = (data[i] as number) ^ 0xff;
  writeFileSync(file, data);
  const d = path.join(tempDir(), 'rootfs');
  await rejects(unpackImageAtomic(img, d), 'ERR_IMAGE_DIGEST_MISMATCH', layer.digest);
  assert.not.ok(existsSync(d));
});

test('archives that are compressed, truncated or not tars are refused clearly', async () => {
  const { file } = ociArchive();
  const dir = tempDir();
  const gz = path.join(dir, 'image.tar.gz');
  writeFileSync(gz, gzipSync(readFileSync(file)));
  const e = await rejects(resolveImage(`oci-archive:${gz}:a`), 'ERR_IMAGE_ARCHIVE_INVALID', 'gzip');
  assert.match(e.hint ?? '', /gunzip/);
  const cut = path.join(dir, 'cut.tar');
  const whole = readFileSync(file);
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  await rejects(resolveImage(`oci-archive:${cut}:a`), 'ERR_IMAGE_ARCHIVE_INVALID', 'truncated');
  const junk = path.join(dir, 'junk.tar');
  writeFileSync(junk, Buffer.alloc(4096, 7));
  await rejects(resolveImage(`oci-archive:${junk}:a`), 'ERR_IMAGE_ARCHIVE_INVALID', 'not a tar');
  await rejects(
    resolveImage(`oci-archive:${path.join(dir, 'missing.tar')}:a`),
    'ERR_IMAGE_NOT_FOUND',
  );
  const noLayout = path.join(dir, 'nolayout.tar');
  writeFileSync(noLayout, tarOf('index.json', '{}'));
  await rejects(resolveImage(`oci-archive:${noLayout}`), 'ERR_IMAGE_LAYOUT_INVALID', 'oci-layout');
});

test('docker-archive: docker save layout, plain and gzip layers, image selection', async () => {
  const t1 = tarOf('etc/one', '1\n');
  const t2 = tarOf('etc/two', '2\n');
  const t3 = tarOf('etc/three', '3\n');
  const file = path.join(tempDir(), 'docker.tar');
  writeFileSync(
    file,
    dockerArchive([
      {
        layers: [
          { stored: t1, tar: t1 },
          { stored: gzipSync(t2), tar: t2 },
        ],
        repoTags: ['example.org/app:v1', 'app:latest'],
        config: { Cmd: ['/one'] },
      },
      { layers: [{ stored: t3, tar: t3 }], repoTags: ['other:v2'], config: { Cmd: ['/three'] } },
    ]),
  );
  await rejects(resolveImage(`docker-archive:${file}`), 'ERR_IMAGE_TAG_REQUIRED', 'other:v2');
  const img = await resolveImage(`docker-archive:${file}:example.org/app:v1`);
  assert.equal(img.config.config?.Cmd, ['/one']);
  assert.is(img.manifest.mediaType, MT.dockerManifest);
  assert.is(img.layers[0]?.digest, sha256(t1), 'an uncompressed layer is named by its diff_id');
  assert.is(img.layers[1]?.digest, sha256(gzipSync(t2)), 'a compressed one by its hash');
  assert.is(img.layers[1]?.mediaType, MT.dockerLayer);
  const again = await resolveImage(`docker-archive:${file}:docker.io/library/app:latest`);
  assert.is(again.manifestDigest, img.manifestDigest, 'the synthesised manifest is stable');
  const d = path.join(tempDir(), 'rootfs');
  await unpackImageAtomic(img, d);
  assert.is(readFileSync(path.join(d, 'etc/one'), 'utf8'), '1\n');
  assert.is(readFileSync(path.join(d, 'etc/two'), 'utf8'), '2\n');
  const second = await resolveImage(`docker-archive:${file}:@1`);
  assert.equal(second.config.config?.Cmd, ['/three']);
  assert.is((await resolveImage(`${file}:other:v2`)).ref.transport, 'docker-archive');
  await rejects(resolveImage(`docker-archive:${file}:nope:v9`), 'ERR_IMAGE_NOT_FOUND', 'app:v1');
});

test('docker-archive: lies about the config, the layers or missing foreign layers are refused', async () => {
  const t1 = tarOf('f', 'real\n');
  const dir = tempDir();
  // config stored under another digest's name
  const lying = path.join(dir, 'lying-config.tar');
  writeFileSync(
    lying,
    dockerArchive([{ layers: [{ stored: t1, tar: t1 }], configName: `${'0'.repeat(64)}.json` }]),
  );
  await rejects(resolveImage(`docker-archive:${lying}`), 'ERR_IMAGE_DIGEST_MISMATCH', '0000');
  // a layer whose content is not its diff_id: refused before anything is written
  const evil = tarOf('f', 'evil\n');
  const swapped = path.join(dir, 'swapped.tar');
  writeFileSync(swapped, dockerArchive([{ layers: [{ stored: evil, tar: t1 }] }]));
  const img = await resolveImage(`docker-archive:${swapped}`);
  const d = path.join(dir, 'rootfs');
  await rejects(unpackImageAtomic(img, d), 'ERR_IMAGE_DIGEST_MISMATCH', sha256(t1));
  assert.not.ok(existsSync(d));
  // a foreign layer that is not in the archive
  const foreign = path.join(dir, 'foreign.tar');
  writeFileSync(
    foreign,
    dockerArchive([
      {
        layers: [{ stored: t1, tar: t1 }],
        omitLayer: 0,
        layerSources: {
          [sha256(t1)]: {
            mediaType: MT.dockerLayer.replace('diff', 'foreign.diff'),
            digest: sha256(t1),
            size: t1.length,
            urls: ['https://example.invalid/layer'],
          },
        },
      },
    ]),
  );
  const e = await rejects(
    resolveImage(`docker-archive:${foreign}`),
    'ERR_IMAGE_BLOB_MISSING',
    'non-distributable',
  );
  assert.match(e.message, /example\.invalid/);
  // diff_ids that do not match the layer count
  const count = path.join(dir, 'count.tar');
  writeFileSync(
    count,
    dockerArchive([
      {
        layers: [{ stored: t1, tar: t1 }],
        editConfig: (c) => ({ ...c, rootfs: { type: 'layers', diff_ids: [] } }),
      },
    ]),
  );
  await rejects(resolveImage(`docker-archive:${count}`), 'ERR_IMAGE_CONFIG_INVALID', 'diff_ids');
  const noManifest = path.join(dir, 'nomanifest.tar');
  writeFileSync(noManifest, tarOf('x', 'y'));
  await rejects(
    resolveImage(`docker-archive:${noManifest}`),
    'ERR_IMAGE_ARCHIVE_INVALID',
    'manifest.json',
  );
});

test.run();
