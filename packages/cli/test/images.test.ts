import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { launchOptions } from '../src/commands/action.js';
import { main } from '../src/main.js';
import { PULL_OPTION_FLAGS, splitAtImage } from '../src/options/flags.js';
import { optionValues } from '../src/options/values.js';
import { createProgress, formatBytes } from '../src/progress.js';
import { captureIo } from './helpers.js';

const dirs: string[] = [];
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'berth-cli-'));
  dirs.push(d);
  return d;
};

test('the image flags take values where they should, on run/exec/shell', () => {
  assert.equal(splitAtImage(['exec', '--platform', 'linux/arm64', 'docker://a', 'id']), [
    'exec',
    '--platform',
    'linux/arm64',
    'docker://a',
    '--',
    'id',
  ]);
  assert.equal(
    splitAtImage(['run', '--authfile', '/a.json', '--no-https', '--disable-cache', 'img', '-x']),
    ['run', '--authfile', '/a.json', '--no-https', '--disable-cache', 'img', '--', '-x'],
  );
  const o = launchOptions(
    'exec',
    {
      image: 'docker://x',
      platform: 'linux/arm/v7',
      authfile: '/auth.json',
      'docker-username': 'u',
      'docker-password': 'p',
      'no-https': true,
      'disable-cache': true,
    },
    captureIo().io,
  );
  assert.is(o.platform, 'linux/arm/v7');
  assert.is(o.authFile, '/auth.json');
  assert.is(o.dockerUsername, 'u');
  assert.is(o.dockerPassword, 'p');
  assert.is(o.noHttps, true);
  assert.is(o.disableCache, true);
  assert.equal(optionValues(PULL_OPTION_FLAGS, { nohttps: true }), {
    noHttps: true,
    disableCache: false,
    fakeroot: false,
  });
});

test('--no-https is a flag of its own (not a negated --https)', async () => {
  const t = captureIo({ BERTH_CACHEDIR: temp() });
  const code = await main(['pull', '--no-https', 'oci:/does/not/exist:x'], t.io);
  assert.is(code, 255);
  assert.match(t.err(), /^berth: image .* not found/);
  const help = captureIo();
  assert.is(await main(['pull', '--help'], help.io), 0);
  for (const f of ['--platform', '--authfile', '--docker-username', '--no-https', '--quiet'])
    assert.ok(help.out().includes(f), f);
});

test('pull: an OCI layout into the cache, digest on stdout, one line per layer', async () => {
  // a minimal layout: one empty layer
  const dir = temp();
  const layout = path.join(dir, 'layout');
  const { createHash } = await import('node:crypto');
  const { gzipSync } = await import('node:zlib');
  mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer) => {
    const d = createHash('sha256').update(b).digest('hex');
    writeFileSync(path.join(layout, 'blobs', 'sha256', d), b);
    return { digest: `sha256:${d}`, size: b.length };
  };
  const tar = Buffer.alloc(1024);
  const layer = put(gzipSync(tar));
  const config = put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: {
          type: 'layers',
          diff_ids: [`sha256:${createHash('sha256').update(tar).digest('hex')}`],
        },
      }),
    ),
  );
  const manifest = put(
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
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': 'v1' },
        },
      ],
    }),
  );
  const cache = path.join(dir, 'cache');
  // the unprivileged path needs subuids; as root the unpack runs in-process
  if (process.getuid?.() !== 0) return;
  const t = captureIo({ BERTH_CACHEDIR: cache });
  assert.is(await main(['pull', `oci:${layout}:v1`], t.io), 0, t.err());
  assert.is(t.out(), `${manifest.digest}\n`);
  assert.match(t.err(), /^berth: unpacked layer 1\/1 [0-9a-f]{12} /m);
  const list = captureIo({ BERTH_CACHEDIR: cache });
  assert.is(await main(['cache', 'list', '--json'], list.io), 0, list.err());
  const listing = JSON.parse(list.out());
  assert.is(listing.images.length, 1);
  assert.equal(listing.images[0].refs, [`oci:${layout}:v1`]);
  const quiet = captureIo({ BERTH_CACHEDIR: path.join(dir, 'cache2') });
  assert.is(await main(['pull', '-q', `oci:${layout}:v1`], quiet.io), 0);
  assert.is(quiet.err(), '');
  const clean = captureIo({ BERTH_CACHEDIR: cache });
  assert.is(await main(['cache', 'clean', '--all'], clean.io), 0, clean.err());
  assert.match(clean.out(), /^removed 1 images/);
});

test('pull: a registry that asks to wait (429 Retry-After) is announced on stderr, not sat through in silence', async () => {
  const { createHash } = await import('node:crypto');
  const { createServer } = await import('node:http');
  const { gzipSync } = await import('node:zlib');
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const tar = Buffer.alloc(1024);
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha(tar)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: sha(layer),
          size: layer.length,
        },
      ],
    }),
  );
  const blobs = new Map([
    [sha(config), config],
    [sha(layer), layer],
  ]);
  let manifestGets = 0;
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/a/b/manifests/v1') {
      if (++manifestGets === 1) {
        res.writeHead(429, { 'retry-after': '1' }).end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'content-length': String(manifest.length),
      });
      res.end(manifest);
      return;
    }
    const blob = blobs.get(url.replace('/v2/a/b/blobs/', ''));
    if (blob) res.writeHead(200, { 'content-length': String(blob.length) }).end(blob);
    else res.writeHead(url === '/v2/' ? 200 : 404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  try {
    const t = captureIo({ BERTH_CACHEDIR: path.join(temp(), 'cache'), HOME: temp() });
    const code = await main(['pull', '--no-https', `docker://127.0.0.1:${port}/a/b:v1`], t.io);
    assert.match(
      t.err(),
      /^berth: warning: fetching .* from 127\.0\.0\.1:\d+\/a\/b: HTTP 429; the registry asks to wait, so retrying in 1 s \(retry 1 of 3\)$/m,
    );
    assert.is(manifestGets, 2);
    // as root the whole pull succeeds (the unprivileged unpack needs subordinate ids)
    if (process.getuid?.() === 0) assert.is(code, 0, t.err());
    const quiet = captureIo({ BERTH_CACHEDIR: path.join(temp(), 'cache'), HOME: temp() });
    manifestGets = 0;
    await main(['pull', '-q', '--no-https', `docker://127.0.0.1:${port}/a/b:v1`], quiet.io);
    assert.not.match(quiet.err(), /warning/, '--quiet says nothing');
  } finally {
    server.close();
  }
});

test('progress: one line per finished layer off a terminal, bars on one, nothing when quiet', () => {
  const events = [
    {
      phase: 'download',
      image: 'i',
      layer: 1,
      layers: 2,
      digest: `sha256:${'a'.repeat(64)}`,
      bytes: 500,
      size: 1000,
      done: false,
      cached: false,
    },
    {
      phase: 'download',
      image: 'i',
      layer: 1,
      layers: 2,
      digest: `sha256:${'a'.repeat(64)}`,
      bytes: 1000,
      size: 1000,
      done: true,
      cached: false,
    },
    {
      phase: 'download',
      image: 'i',
      layer: 2,
      layers: 2,
      digest: `sha256:${'b'.repeat(64)}`,
      bytes: 5,
      size: 5,
      done: true,
      cached: true,
    },
    { phase: 'unpack-start', image: 'i', layers: 2 },
    {
      phase: 'unpack-layer',
      layer: 1,
      layers: 2,
      digest: `sha256:${'a'.repeat(64)}`,
      bytes: 1000,
      size: 1000,
      entries: 3,
      done: true,
    },
    {
      phase: 'unpack-layer',
      layer: 2,
      layers: 2,
      digest: `sha256:${'b'.repeat(64)}`,
      bytes: 5,
      size: 5,
      entries: 4,
      done: true,
    },
    { phase: 'unpack-done', image: 'i', entries: 4 },
  ] as const;
  const plain = captureIo();
  const p = createProgress(plain.io, { quiet: false });
  for (const e of events) p.onProgress?.(e);
  p.finish();
  assert.is(
    plain.err(),
    [
      'berth: downloaded layer 1/2 aaaaaaaaaaaa (1.00 kB)',
      'berth: layer 2/2 bbbbbbbbbbbb already downloaded',
      'berth: unpacked layer 1/2 aaaaaaaaaaaa (1.00 kB, 3 entries so far)',
      'berth: unpacked layer 2/2 bbbbbbbbbbbb (5 B, 4 entries so far)',
      'berth: unpacked i (4 entries)',
      '',
    ].join('\n'),
  );
  const tty = captureIo({}, true);
  const q = createProgress(tty.io, { quiet: false });
  for (const e of events) q.onProgress?.(e);
  q.finish();
  assert.match(tty.err(), /layer 1\/2 aaaaaaaaaaaa downloaded\s+\[=+\] 1\.00 kB\/1\.00 kB/);
  assert.match(tty.err(), /layer 2\/2 bbbbbbbbbbbb unpacked\s+\[=+\]/);
  assert.ok(tty.err().includes('\u001b[2A'), 'redrawn in place');
  const silent = captureIo({}, true);
  const s = createProgress(silent.io, { quiet: true });
  assert.is(s.onProgress, undefined);
  assert.is(formatBytes(1_500_000), '1.50 MB');
});

test.run();
