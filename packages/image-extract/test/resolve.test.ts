import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { locateBlob } from '../src/core/blob-source.js';
import { parseImageRef } from '../src/core/image-ref.js';
import { hostPlatform } from '../src/core/platform.js';
import { resolveImage } from '../src/resolve.js';
import { rejects } from './helpers/expect.js';
import { type Desc, Layout, MT, sha256, tempDir } from './helpers/layout.js';

const files = [{ name: 'hello', data: 'hi\n' }];

test('selects by tag and returns manifest, config, layers with diff_ids', async () => {
  const l = new Layout();
  const la = l.layer(files);
  const lb = l.layer([{ name: 'b', data: 'b' }], { gzip: false });
  const a = l.image([la], { config: { Cmd: ['a'] } });
  const b = l.image([la, lb], { config: { Cmd: ['b'] } });
  l.writeIndex([
    { desc: a, tag: 'a' },
    { desc: b, tag: 'b' },
  ]);
  const img = await resolveImage(`oci:${l.dir}:b`);
  assert.is(img.manifestDigest, b.digest);
  assert.equal(img.ref, { transport: 'oci', path: l.dir, tag: 'b' });
  assert.equal(img.config.config?.Cmd, ['b']);
  assert.is(img.layers.length, 2);
  assert.is(img.layers[0]?.diffId, la.diffId);
  assert.is(img.layers[1]?.digest, lb.digest);
  assert.is(img.layers[1]?.mediaType, MT.layer);
  assert.equal(img.source, { kind: 'dir', dir: l.dir });
  assert.equal(locateBlob(img.source, lb.digest), {
    file: path.join(l.dir, 'blobs', 'sha256', lb.digest.slice(7)),
    offset: 0,
    length: undefined,
  });
  // an ImageRef object works too
  const again = await resolveImage(parseImageRef(`oci:${l.dir}:a`));
  assert.is(again.manifestDigest, a.digest);
});

test('no tag: the single manifest, or ERR_IMAGE_TAG_REQUIRED listing tags', async () => {
  const l = new Layout();
  const a = l.image([l.layer(files)]);
  l.writeIndex([{ desc: a }]);
  assert.is((await resolveImage(`oci:${l.dir}`)).manifestDigest, a.digest);
  const b = l.image([l.layer(files)], { config: { Cmd: ['x'] } });
  l.writeIndex([
    { desc: a, tag: 'one' },
    { desc: b, tag: 'two' },
  ]);
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_TAG_REQUIRED', '"one", "two"');
});

test('unknown tag: ERR_IMAGE_NOT_FOUND listing the tags', async () => {
  const l = new Layout();
  l.writeIndex([{ desc: l.image([l.layer(files)]), tag: 'v1' }]);
  await rejects(resolveImage(`oci:${l.dir}:v2`), 'ERR_IMAGE_NOT_FOUND', '"v1"');
});

test('missing directory and bad layouts', async () => {
  const dir = path.join(tempDir(), 'nope');
  const e = await rejects(resolveImage(`oci:${dir}:x`), 'ERR_IMAGE_NOT_FOUND', dir);
  assert.ok(e.message.includes(`oci:${dir}:x`), 'names the reference');
  const l = new Layout();
  l.writeIndex([{ desc: l.image([l.layer(files)]) }]);
  writeFileSync(path.join(l.dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_LAYOUT_INVALID', '2.0.0');
  rmSync(path.join(l.dir, 'oci-layout'));
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_LAYOUT_INVALID', 'oci-layout');
});

test('platform index: first exact match; host default; ERR_IMAGE_PLATFORM lists what exists', async () => {
  const l = new Layout();
  const arm = l.image([l.layer([{ name: 'arch', data: 'arm64' }])], { architecture: 'arm64' });
  const amd = l.image([l.layer([{ name: 'arch', data: 'amd64' }])], { architecture: 'amd64' });
  const armv7 = l.image([l.layer([{ name: 'arch', data: 'armv7' }])], { architecture: 'arm' });
  const idx = l.index([
    { ...arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { ...amd, platform: { os: 'linux', architecture: 'amd64' } },
    { ...armv7, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { ...amd, platform: { os: 'linux', architecture: 'amd64' }, annotations: { second: 'yes' } },
  ]);
  l.writeIndex([{ desc: idx, tag: 'multi' }]);
  const ref = `oci:${l.dir}:multi`;
  const a = await resolveImage(ref, { platform: { os: 'linux', architecture: 'amd64' } });
  assert.is(a.manifestDigest, amd.digest);
  assert.equal(a.platform, { os: 'linux', architecture: 'amd64' });
  assert.is(
    (await resolveImage(ref, { platform: { os: 'linux', architecture: 'arm64' } })).manifestDigest,
    arm.digest,
  );
  assert.is(
    (await resolveImage(ref, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }))
      .manifestDigest,
    arm.digest,
  );
  assert.is(
    (await resolveImage(ref, { platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }))
      .manifestDigest,
    armv7.digest,
  );
  const host = hostPlatform();
  const byHost = await resolveImage(ref);
  if (host.architecture === 'amd64') assert.is(byHost.manifestDigest, amd.digest);
  if (host.architecture === 'arm64') assert.is(byHost.manifestDigest, arm.digest);
  const e = await rejects(
    resolveImage(ref, { platform: { os: 'linux', architecture: 's390x' } }),
    'ERR_IMAGE_PLATFORM',
    'linux/s390x',
  );
  assert.ok(e.message.includes('linux/arm64/v8, linux/amd64, linux/arm/v7'), e.message);
  await rejects(
    resolveImage(ref, { platform: { os: 'linux', architecture: 'arm', variant: 'v6' } }),
    'ERR_IMAGE_PLATFORM',
  );
  await rejects(resolveImage(ref, { platform: { os: 'linux' } as never }), 'ERR_INVALID_OPTIONS');
});

test('options are strict: an unknown key is ERR_INVALID_OPTIONS naming it, an ImageError', async () => {
  const l = new Layout();
  l.writeIndex([{ desc: l.image([l.layer(files)]), tag: 'v1' }]);
  const ref = `oci:${l.dir}:v1`;
  const e = await rejects(
    resolveImage(ref, { platfrom: { os: 'linux' } } as never),
    'ERR_INVALID_OPTIONS',
    'platfrom',
  );
  assert.is((e as { name?: string }).name, 'ImageError');
  await rejects(
    resolveImage(ref, { platform: { os: 'linux', architecture: 'amd64', arch: 'x' } } as never),
    'ERR_INVALID_OPTIONS',
    'arch',
  );
});

test('docker manifest list and schema2 manifest are accepted', async () => {
  const l = new Layout();
  const m = l.image([l.layer(files, { mediaType: MT.dockerLayer })], { docker: true });
  const list = l.index([{ ...m, platform: { os: 'linux', architecture: 'amd64' } }], {
    docker: true,
  });
  l.writeIndex([{ desc: list, tag: 'd' }]);
  const img = await resolveImage(`oci:${l.dir}:d`, {
    platform: { os: 'linux', architecture: 'amd64' },
  });
  assert.is(img.manifestDigest, m.digest);
  assert.is(img.manifest.mediaType, MT.dockerManifest);
});

async function tamperCase(
  kind: 'manifest' | 'config' | 'index',
  how: 'digest' | 'size' | 'missing',
) {
  const l = new Layout();
  const m = l.image([l.layer(files)]);
  const idx = l.index([{ ...m, platform: { os: 'linux', architecture: 'amd64' } }]);
  l.writeIndex([{ desc: idx, tag: 't' }]);
  const manifest = JSON.parse(readFileSync(l.blobPath(m.digest), 'utf8'));
  const target =
    kind === 'manifest' ? m.digest : kind === 'index' ? idx.digest : manifest.config.digest;
  const file = l.blobPath(target);
  if (how === 'missing') rmSync(file);
  else if (how === 'size') appendFileSync(file, ' ');
  else {
    // same size, different content
    const data = readFileSync(file);
    data[data.length - 1] = 0x20;
    writeFileSync(file, data);
  }
  return { ref: `oci:${l.dir}:t`, target };
}

for (const kind of ['index', 'manifest', 'config'] as const) {
  test(`${kind}: digest mismatch, size mismatch, missing blob`, async () => {
    const opts = { platform: { os: 'linux', architecture: 'amd64' } };
    let c = await tamperCase(kind, 'digest');
    await rejects(resolveImage(c.ref, opts), 'ERR_IMAGE_DIGEST_MISMATCH', c.target);
    c = await tamperCase(kind, 'size');
    await rejects(resolveImage(c.ref, opts), 'ERR_IMAGE_SIZE_MISMATCH', c.target);
    c = await tamperCase(kind, 'missing');
    await rejects(resolveImage(c.ref, opts), 'ERR_IMAGE_BLOB_MISSING', c.target);
  });
}

test('media-type confusion is refused', async () => {
  const l = new Layout();
  const m = l.image([l.layer(files)]);
  // a manifest blob described as an index
  l.writeIndex([{ desc: { ...m, mediaType: MT.index } }]);
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_MEDIA_TYPE');
  // an index blob described as a manifest
  const idx = l.index([{ ...m, platform: { os: 'linux', architecture: 'amd64' } }]);
  l.writeIndex([{ desc: { ...idx, mediaType: MT.manifest } }]);
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_MEDIA_TYPE');
  // a manifest without mediaType but with a "manifests" field, described as a manifest
  const ambiguous = l.image([l.layer(files)], {
    editManifest: (doc) => {
      const { mediaType: _m, ...rest } = doc;
      return { ...rest, manifests: [] };
    },
  });
  l.writeIndex([{ desc: ambiguous }]);
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_MEDIA_TYPE', 'manifests');
  // docker manifest media type inside, OCI in the descriptor
  const docker = l.image([l.layer(files)], { docker: true });
  l.writeIndex([{ desc: { ...docker, mediaType: MT.manifest } }]);
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_MEDIA_TYPE', MT.dockerManifest);
  // a config that is not an image config (an artifact)
  const artifact = l.image([l.layer(files)], {
    configDesc: (d) => ({ ...d, mediaType: 'application/vnd.cncf.helm.config.v1+json' }),
  });
  l.writeIndex([{ desc: artifact }]);
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_MEDIA_TYPE', 'helm');
  // unknown manifest media type
  l.writeIndex([
    { desc: { ...m, mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' } },
  ]);
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_MEDIA_TYPE');
});

test('digests that could escape the blobs directory are refused', async () => {
  const l = new Layout();
  const m = l.image([l.layer(files)]);
  for (const digest of [
    'sha256:../../../etc/passwd',
    `sha256:${'A'.repeat(64)}`,
    `sha512:${'a'.repeat(128)}`,
    'sha256:abc',
  ]) {
    l.writeIndex([{ desc: { ...m, digest } }]);
    await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_DIGEST_INVALID');
  }
  const bad = l.image([l.layer(files)], {
    editManifest: (doc) => ({
      ...doc,
      layers: [{ mediaType: MT.layerGzip, digest: 'sha256:../../x', size: 1 }],
    }),
  });
  l.writeIndex([{ desc: bad }]);
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_DIGEST_INVALID');
});

test('config must have one diff_id per layer', async () => {
  const l = new Layout();
  const layer = l.layer(files);
  const m = l.image([layer, layer], {
    editConfig: (c) => ({ ...c, rootfs: { type: 'layers', diff_ids: [layer.diffId] } }),
  });
  l.writeIndex([{ desc: m }]);
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_CONFIG_INVALID', 'diff_ids');
  const noRootfs = l.image([layer], { editConfig: ({ rootfs: _r, ...c }) => c });
  l.writeIndex([{ desc: noRootfs }]);
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_CONFIG_INVALID');
});

test('invalid JSON and schema violations in manifests', async () => {
  const l = new Layout();
  const blob = l.blob('{not json');
  l.writeIndex([{ desc: { mediaType: MT.manifest, digest: blob.digest, size: blob.size } }]);
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_MANIFEST_INVALID', blob.digest);
  const noLayers = l.blob({
    schemaVersion: 2,
    mediaType: MT.manifest,
    config: { mediaType: MT.config, digest: sha256('x'), size: 1 },
  });
  l.writeIndex([
    { desc: { mediaType: MT.manifest, digest: noLayers.digest, size: noLayers.size } as Desc },
  ]);
  await rejects(resolveImage(`oci:${l.dir}`), 'ERR_IMAGE_MANIFEST_INVALID');
});

test.run();
