import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pullTarget, tagOf } from '../src/commands/pull.js';
import { tarHeader, writeOciArchive } from '../src/image-file.js';
import { main } from '../src/main.js';
import { captureIo } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'berth-image-file-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const blobs = path.join(dir, 'blobs');
mkdirSync(path.join(blobs, 'sha256'), { recursive: true });
const put = (b: Buffer) => {
  const hex = createHash('sha256').update(b).digest('hex');
  writeFileSync(path.join(blobs, 'sha256', hex), b);
  return { digest: `sha256:${hex}`, size: b.length };
};

test('tar headers carry a valid checksum and GNU base-256 sizes over 8 GiB', () => {
  const h = tarHeader('blobs/sha256/x', 1234);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
  assert.is(Number.parseInt(h.subarray(148, 154).toString(), 8), sum);
  assert.is(h.subarray(124, 135).toString(), (1234).toString(8).padStart(11, '0'));
  const big = tarHeader('b', 2 ** 34);
  assert.is(big[124], 0x80);
  assert.throws(() => tarHeader('x'.repeat(101), 1));
});

test('writeOciArchive: oci-layout, index.json naming the manifest, and every blob, as tar reads them', async () => {
  const layer = put(Buffer.from('not really a layer, 600 bytes'.padEnd(600, '.')));
  const config = put(Buffer.from('{"architecture":"amd64","os":"linux"}'));
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  const file = path.join(dir, 'image.simg');
  const size = await writeOciArchive(file, {
    blobsDir: blobs,
    manifestDigest: manifest.digest,
    tag: '3.20',
  });
  assert.is(size % 512, 0);
  const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(names, [
    'oci-layout',
    'index.json',
    ...[manifest, config, layer].map((b) => `blobs/sha256/${b.digest.slice(7)}`),
  ]);
  const out = path.join(dir, 'x');
  mkdirSync(out);
  execFileSync('tar', ['-xf', file, '-C', out]);
  const index = JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8'));
  assert.is(index.manifests[0].digest, manifest.digest);
  assert.is(index.manifests[0].size, manifest.size);
  assert.is(index.manifests[0].annotations['org.opencontainers.image.ref.name'], '3.20');
  const back = readFileSync(path.join(out, 'blobs/sha256', layer.digest.slice(7)));
  assert.is(`sha256:${createHash('sha256').update(back).digest('hex')}`, layer.digest);
  // no temporary file is left beside it
  assert.equal(execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).trim().split('\n').sort(), [
    'blobs',
    'image.simg',
    'x',
  ]);
});

test('pull --name: docker:// only, FILE kept unless --force, one way of naming it', () => {
  assert.equal(pullTarget({ image: 'docker://a/b' }, '/w'), { image: 'docker://a/b' });
  assert.equal(pullTarget({ image: 'docker://a/b', name: 'f.simg' }, '/w'), {
    image: 'docker://a/b',
    file: '/w/f.simg',
  });
  // upstream's `pull FILE URI`
  assert.equal(pullTarget({ image: 'f.sif', uri: 'docker://a' }, '/w'), {
    image: 'docker://a',
    file: '/w/f.sif',
  });
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return undefined;
  };
  assert.is(
    code(() => pullTarget({ image: 'oci:/x', name: 'f' }, '/w')),
    'ERR_CLI_PULL_FILE',
  );
  assert.is(
    code(() => pullTarget({ image: 'f', uri: 'docker://a', name: 'g' }, '/w')),
    'ERR_CLI_USAGE',
  );
  const existing = path.join(dir, 'image.simg');
  assert.is(
    code(() => pullTarget({ image: 'docker://a', name: existing }, '/')),
    'ERR_CLI_PULL_FILE',
  );
  assert.is(pullTarget({ image: 'docker://a', name: existing, force: true }, '/').file, existing);
});

test('tagOf: the tag of a normalised reference', () => {
  assert.is(tagOf('docker://docker.io/library/alpine:3.20'), '3.20');
  assert.is(tagOf('docker://127.0.0.1:5000/a/b'), undefined);
  assert.is(tagOf('docker://127.0.0.1:5000/a/b:v1@sha256:abc'), 'v1');
});

test('pull --disable-cache says that it kept nothing, and keeps nothing', async () => {
  // the unprivileged path needs subuids; as root the unpack runs in-process
  if (process.getuid?.() !== 0) return;
  const { gzipSync } = await import('node:zlib');
  const layout = path.join(dir, 'layout');
  const lb = path.join(layout, 'blobs', 'sha256');
  mkdirSync(lb, { recursive: true });
  const putIn = (b: Buffer) => {
    const hex = createHash('sha256').update(b).digest('hex');
    writeFileSync(path.join(lb, hex), b);
    return { digest: `sha256:${hex}`, size: b.length };
  };
  const tar = Buffer.alloc(1024);
  const layer = putIn(gzipSync(tar));
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const config = putIn(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [diffId] },
      }),
    ),
  );
  const manifest = putIn(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }),
    ),
  );
  writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }],
    }),
  );
  const cache = path.join(dir, 'cache');
  const tmp = path.join(dir, 'tmp');
  mkdirSync(tmp);
  const t = captureIo({ BERTH_CACHEDIR: cache, TMPDIR: tmp });
  assert.is(await main(['pull', '--disable-cache', `oci:${layout}`], t.io), 0, t.err());
  assert.match(
    t.err(),
    /^berth: fetched and unpacked oci:.*, and kept nothing \(--disable-cache\)$/m,
  );
  assert.not.match(t.err(), /pulled/);
  assert.is(t.out(), `${manifest.digest}\n`);
  assert.equal(execFileSync('ls', ['-A', tmp], { encoding: 'utf8' }), '');
  assert.not.ok(existsSync(path.join(cache, 'rootfs')), 'no rootfs in the cache');
});

test.run();
