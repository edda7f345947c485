/**
 * docker:// against an in-process registry: the token flow and credentials, platforms,
 * redirects, retries, and a registry that lies (digests, sizes, Content-Length, truncation,
 * media types). Blobs that fail verification never enter the cache.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as v from 'valibot';
import { blobCachePath } from '../src/cache/blob-cache.js';
import { type FetchProgress, fetchImageBlobs } from '../src/cache/fetch-blobs.js';
import { parseDockerReference } from '../src/core/image-ref.js';
import { RegistryClient } from '../src/registry/client.js';
import { type RegistryOptions, RegistryOptionsSchema } from '../src/registry/options.js';
import type { RegistryWait } from '../src/registry/retry.js';
import { TokenCache } from '../src/registry/token-cache.js';
import { type ResolveOptions, resolveImage } from '../src/resolve.js';
import { unpackImageAtomic } from '../src/unpack/unpack.js';
import { rejects } from './helpers/expect.js';
import { FakeRegistry } from './helpers/fake-registry.js';
import { MT, sha256, tempDir } from './helpers/layout.js';

const layerFiles = [
  [
    { name: 'etc/', type: 'dir' as const },
    { name: 'etc/os', data: 'fake os\n' },
  ],
  [{ name: 'hello', data: 'hello from the registry\n' }],
];

let reg: FakeRegistry;
let other: FakeRegistry;

test.before.each(async () => {
  reg = new FakeRegistry();
  await reg.start();
  other = new FakeRegistry();
  await other.start();
});

test.after.each(async () => {
  await reg.stop();
  await other.stop();
});

/** Options for a plain-HTTP loopback registry, a fresh cache, no real auth files, quick retries. */
function opts(extra: ResolveOptions = {}): ResolveOptions & { cacheDir: string } {
  const home = tempDir();
  return {
    noHttps: true,
    cacheDir: path.join(home, 'cache'),
    env: { HOME: home },
    retryDelayMs: 1,
    ...extra,
  };
}

/** Resolves, fetches the layers and unpacks; returns the rootfs. */
async function pull(
  ref: string,
  o: ResolveOptions & { cacheDir: string },
  onProgress?: (e: FetchProgress) => void,
) {
  const img = await resolveImage(ref, o);
  const { platform: _p, cacheDir: _c, ...fo } = o;
  const stats = await fetchImageBlobs(img, { ...fo, ...(onProgress && { onProgress }) });
  const rootfs = path.join(tempDir(), 'rootfs');
  await unpackImageAtomic(img, rootfs);
  return { img, rootfs, stats };
}

const cacheFiles = (cacheDir: string) => readdirSync(path.join(cacheDir, 'blobs', 'sha256')).sort();

test('anonymous pull by tag: the bearer token flow, layers verified into the cache', async () => {
  reg.auth = 'bearer';
  const pushed = reg.pushImage('team/app', ['v1'], layerFiles);
  const o = opts();
  const events: FetchProgress[] = [];
  const { img, rootfs, stats } = await pull(`docker://${reg.host}/team/app:v1`, o, (e) =>
    events.push(e),
  );
  assert.is(img.manifestDigest, pushed.manifestDigest);
  assert.equal(img.source, { kind: 'dir', dir: o.cacheDir });
  assert.is(readFileSync(path.join(rootfs, 'hello'), 'utf8'), 'hello from the registry\n');
  assert.is(stats.downloaded, 2);
  assert.ok(reg.log.includes('GET /token'), 'a token was fetched');
  assert.ok(
    reg.authSeen.some((a) => a.path.includes('/blobs/') && a.authorization === 'Bearer tok-anon'),
    'blobs fetched with the token',
  );
  assert.equal(
    events
      .filter((e) => e.phase === 'downloaded')
      .map((e) => e.layer)
      .sort(),
    [1, 2],
  );
  for (const l of pushed.layers) assert.ok(existsSync(blobCachePath(o.cacheDir, l.digest)));
  assert.ok(existsSync(blobCachePath(o.cacheDir, pushed.manifestDigest)), 'the manifest is cached');
  assert.not.ok(cacheFiles(o.cacheDir).some((n) => n.includes('.tmp-')));
  assert.is(statSync(path.join(o.cacheDir, 'blobs', 'sha256')).mode & 0o777, 0o700, 'private');
  // a second fetch downloads nothing; by digest the cache answers without the registry
  const again = await fetchImageBlobs(img, { noHttps: true, retryDelayMs: 1 });
  assert.is(again.downloaded, 0);
  await reg.stop();
  const offline = await resolveImage(`docker://${reg.host}/team/app@${pushed.manifestDigest}`, {
    ...o,
    retries: 0,
  });
  assert.is(offline.configDigest, pushed.configDigest);
  reg = new FakeRegistry();
  await reg.start();
});

test('tokens: each client asks for its own, a TokenCache passed in is shared across calls', async () => {
  reg.auth = 'bearer';
  reg.pushImage('team/app', ['v1'], layerFiles);
  const tokenRequests = () => reg.log.filter((l) => l === 'GET /token').length;
  await pull(`docker://${reg.host}/team/app:v1`, opts());
  const unshared = tokenRequests();
  assert.ok(unshared >= 2, 'resolveImage and fetchImageBlobs each asked');
  const tokenCache = new TokenCache();
  await pull(`docker://${reg.host}/team/app:v1`, opts({ tokenCache }));
  assert.is(tokenRequests(), unshared + 1, 'one token served both calls');
  await rejects(
    resolveImage(`docker://${reg.host}/team/app:v1`, opts({ tokenCache: {} as TokenCache })),
    'ERR_INVALID_OPTIONS',
    'tokenCache',
  );
});

test('Docker Hub names, Docker media types, 404s', async () => {
  const pushed = reg.pushImage('library/busy', ['latest'], layerFiles, { docker: true });
  const { img } = await pull(`docker://${reg.host}/library/busy`, opts());
  assert.is(img.manifestDigest, pushed.manifestDigest);
  assert.is(img.layers[0]?.mediaType, MT.dockerLayer);
  await rejects(
    resolveImage(`docker://${reg.host}/library/busy:nope`, opts()),
    'ERR_IMAGE_NOT_FOUND',
    'MANIFEST_UNKNOWN',
  );
});

test('a multi-platform index: first match for the platform, arm64 listed first; an error lists what exists', async () => {
  const arm = reg.pushImage('multi', [], [[{ name: 'platform', data: 'arm64\n' }]], {
    architecture: 'arm64',
  });
  const amd = reg.pushImage('multi', [], [[{ name: 'platform', data: 'amd64\n' }]]);
  const entry = (p: { digest: string }, architecture: string, variant?: string) => ({
    mediaType: MT.manifest,
    digest: p.digest,
    size: 0,
    platform: { os: 'linux', architecture, ...(variant && { variant }) },
  });
  const fix = (e: ReturnType<typeof entry>, m: Buffer) => ({ ...e, size: m.length });
  const index = {
    schemaVersion: 2,
    mediaType: MT.index,
    manifests: [
      fix(entry({ digest: arm.manifestDigest }, 'arm64', 'v8'), arm.manifest),
      fix(entry({ digest: amd.manifestDigest }, 'amd64'), amd.manifest),
    ],
  };
  const idx = reg.putManifest('multi', ['latest'], index);
  const amd64 = await pull(
    `docker://${reg.host}/multi`,
    opts({ platform: { os: 'linux', architecture: 'amd64' } }),
  );
  assert.is(readFileSync(path.join(amd64.rootfs, 'platform'), 'utf8'), 'amd64\n');
  assert.equal(amd64.img.indexDigests, [idx.digest]);
  assert.equal(amd64.img.platform, { os: 'linux', architecture: 'amd64' });
  const arm64 = await pull(
    `docker://${reg.host}/multi`,
    opts({ platform: { os: 'linux', architecture: 'arm64' } }),
  );
  assert.is(readFileSync(path.join(arm64.rootfs, 'platform'), 'utf8'), 'arm64\n');
  await rejects(
    resolveImage(
      `docker://${reg.host}/multi`,
      opts({ platform: { os: 'linux', architecture: 's390x' } }),
    ),
    'ERR_IMAGE_PLATFORM',
    'linux/arm64/v8, linux/amd64',
  );
  // a single-platform image asked for another platform explicitly
  await rejects(
    resolveImage(
      `docker://${reg.host}/multi@${arm.manifestDigest}`,
      opts({ platform: { os: 'linux', architecture: 'amd64' } }),
    ),
    'ERR_IMAGE_PLATFORM',
    'linux/arm64',
  );
});

test('credentials: Basic auth and tokens, from options, environment or an auth file', async () => {
  reg.auth = 'basic';
  reg.users.set('alice', 's3cret');
  reg.pushImage('private/app', ['v1'], layerFiles);
  const ref = `docker://${reg.host}/private/app:v1`;
  const e = await rejects(resolveImage(ref, opts()), 'ERR_IMAGE_AUTH', 'requires authentication');
  assert.match(e.hint ?? '', /--authfile/);
  await rejects(
    resolveImage(ref, opts({ username: 'alice', password: 'wrong' })),
    'ERR_IMAGE_AUTH',
    'refused the credentials',
  );
  await pull(ref, opts({ username: 'alice', password: 's3cret' }));
  const home = tempDir();
  await pull(ref, {
    ...opts(),
    env: { HOME: home, DOCKER_USERNAME: 'alice', DOCKER_PASSWORD: 's3cret' },
  });
  const authFile = path.join(home, 'auth.json');
  writeFileSync(
    authFile,
    JSON.stringify({
      auths: { [reg.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } },
    }),
  );
  await pull(ref, opts({ authFile }));
  // the default places: $XDG_RUNTIME_DIR/containers/auth.json, then ~/.docker/config.json
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.join(home, '.docker'));
  writeFileSync(
    path.join(home, '.docker', 'config.json'),
    JSON.stringify({
      auths: { [`http://${reg.host}/private`]: { username: 'alice', password: 's3cret' } },
    }),
  );
  await pull(ref, { ...opts(), env: { HOME: home } });
  await rejects(
    resolveImage(ref, opts({ authFile: path.join(home, 'missing.json') })),
    'ERR_IMAGE_AUTH',
    'missing.json',
  );
  writeFileSync(authFile, '{not json');
  await rejects(resolveImage(ref, opts({ authFile })), 'ERR_IMAGE_AUTH', 'not valid JSON');
  await rejects(resolveImage(ref, opts({ username: 'alice' })), 'ERR_INVALID_OPTIONS');

  // a token server that wants credentials
  reg.auth = 'bearer';
  reg.tokenNeedsCredentials = true;
  await rejects(resolveImage(ref, opts()), 'ERR_IMAGE_AUTH');
  await pull(ref, opts({ username: 'alice', password: 's3cret' }));
  assert.ok(reg.authSeen.some((a) => a.authorization === 'Bearer tok-user'));
});

test('redirects to blob storage: followed, without sending credentials to the other origin', async () => {
  reg.auth = 'basic';
  reg.users.set('bob', 'pw');
  const pushed = reg.pushImage('r/app', ['v1'], layerFiles);
  for (const l of pushed.layers) other.blobs.set(l.digest, reg.blobs.get(l.digest) as Buffer);
  reg.hooks.push((req, res, { path: p }) => {
    const m = /\/blobs\/(sha256:[a-f0-9]+)$/.exec(p);
    if (!m || !pushed.layers.some((l) => l.digest === m[1]) || !req.headers.authorization)
      return false;
    res.writeHead(307, { location: `http://${other.host}/storage/${m[1]}?sig=abc` }).end();
    return true;
  });
  other.hooks.push((_req, res, { path: p }) => {
    const digest = p.split('/').pop() as string;
    const blob = other.blobs.get(digest);
    if (!blob) return false;
    res.writeHead(200, { 'content-length': blob.length }).end(blob);
    return true;
  });
  const { rootfs } = await pull(
    `docker://${reg.host}/r/app:v1`,
    opts({ username: 'bob', password: 'pw' }),
  );
  assert.is(readFileSync(path.join(rootfs, 'hello'), 'utf8'), 'hello from the registry\n');
  assert.is(other.authSeen.filter((a) => a.path.startsWith('/storage/')).length, 2);
  assert.ok(
    other.authSeen.every((a) => a.authorization === undefined),
    'no credentials to blob storage',
  );

  // a redirect to something that is not http(s) is refused
  reg.hooks.unshift((_req, res, { path: p }) => {
    if (!p.includes('/blobs/')) return false;
    res.writeHead(302, { location: 'file:///etc/passwd' }).end();
    return true;
  });
  await rejects(
    pull(`docker://${reg.host}/r/app:v1`, opts({ username: 'bob', password: 'pw' })),
    'ERR_IMAGE_REGISTRY',
    'not http',
  );
});

test('retries: 503, 429 with Retry-After and a reset connection are retried; a dead registry is not forever', async () => {
  const pushed = reg.pushImage('flaky/app', ['v1'], layerFiles);
  const first = pushed.layers[0]?.digest as string;
  const second = pushed.layers[1]?.digest as string;
  reg.hooks.push((_req, res, { path: p, count }) => {
    if (p.endsWith('/manifests/v1') && count <= 2) {
      res.writeHead(503).end();
      return true;
    }
    if (p.endsWith(first) && count === 1) {
      res.writeHead(429, { 'retry-after': '0' }).end();
      return true;
    }
    if (p.endsWith(second) && count === 1) {
      res.socket?.destroy();
      return true;
    }
    return false;
  });
  const { rootfs } = await pull(`docker://${reg.host}/flaky/app:v1`, opts());
  assert.ok(existsSync(path.join(rootfs, 'hello')));
  assert.is(reg.count('/v2/flaky/app/manifests/v1'), 3);

  reg.hooks.push((_req, res) => {
    res.writeHead(500).end();
    return true;
  });
  const e = await rejects(
    resolveImage(`docker://${reg.host}/flaky/app:v2`, opts({ retries: 2 })),
    'ERR_IMAGE_REGISTRY',
    'HTTP 500',
  );
  assert.match(e.hint ?? '', /3 times/);
  await reg.stop();
  await rejects(
    resolveImage(`docker://${reg.host}/flaky/app:v1`, opts({ retries: 1 })),
    'ERR_IMAGE_REGISTRY',
    'cannot connect',
  );
  reg = new FakeRegistry();
  await reg.start();
});

/** Serves blob `digest` through `serve` instead of the real content. */
function fault(
  digest: string,
  serve: (res: import('node:http').ServerResponse, blob: Buffer) => void,
) {
  reg.hooks.push((_req, res, { path: p }) => {
    if (!p.endsWith(`/blobs/${digest}`)) return false;
    serve(res, reg.blobs.get(digest) as Buffer);
    return true;
  });
}

test('a lying registry: blob digest, size, Content-Length and truncation; nothing enters the cache', async () => {
  const cases: Array<
    [string, (res: import('node:http').ServerResponse, blob: Buffer) => void, string, string]
  > = [
    [
      'other bytes of the same size',
      (res, blob) => {
        const bad = Buffer.from(blob);
        bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
        res.writeHead(200, { 'content-length': bad.length }).end(bad);
      },
      'ERR_IMAGE_DIGEST_MISMATCH',
      'does not match its digest',
    ],
    [
      'a Content-Length other than the descriptor size',
      (res, blob) =>
        res
          .writeHead(200, { 'content-length': blob.length + 10 })
          .end(Buffer.concat([blob, Buffer.alloc(10)])),
      'ERR_IMAGE_SIZE_MISMATCH',
      'Content-Length',
    ],
    [
      'more bytes than the descriptor says (chunked)',
      (res, blob) => {
        res.writeHead(200);
        res.write(blob);
        res.end(Buffer.alloc(100));
      },
      'ERR_IMAGE_SIZE_MISMATCH',
      `more than`,
    ],
    [
      'a body cut short (Content-Length right, connection closed)',
      (res, blob) => {
        res.writeHead(200, { 'content-length': blob.length });
        res.write(blob.subarray(0, 10));
        setTimeout(() => res.socket?.destroy(), 10);
      },
      'ERR_IMAGE_REGISTRY',
      'cut short',
    ],
    [
      'a Docker-Content-Digest naming another blob',
      (res, blob) =>
        res
          .writeHead(200, { 'content-length': blob.length, 'docker-content-digest': sha256('x') })
          .end(blob),
      'ERR_IMAGE_DIGEST_MISMATCH',
      sha256('x'),
    ],
  ];
  for (const [what, serve, code, message] of cases) {
    reg.hooks = [];
    const pushed = reg.pushImage('liar/app', ['v1'], [[{ name: 'f', data: `${what}\n` }]]);
    const digest = pushed.layers[0]?.digest as string;
    fault(digest, serve);
    const o = opts({ retries: 1 });
    const img = await resolveImage(`docker://${reg.host}/liar/app:v1`, o);
    const e = await rejects(
      fetchImageBlobs(img, { noHttps: true, retries: 1, retryDelayMs: 1 }),
      code,
      message,
    );
    assert.match(e.message, new RegExp(digest.slice(7, 20)), `${what}: the error names the blob`);
    assert.not.ok(existsSync(blobCachePath(o.cacheDir, digest)), `${what}: not cached`);
    assert.not.ok(
      cacheFiles(o.cacheDir).some((n) => n.includes('.tmp-')),
      `${what}: no partial file`,
    );
  }
});

test('a lying registry: manifests by digest, Docker-Content-Digest, media-type confusion, schema 1, sizes', async () => {
  const pushed = reg.pushImage('m/app', ['v1'], layerFiles);
  const evil = reg.pushImage('m/app', ['evil'], [[{ name: 'f', data: 'evil' }]]);
  // asked by digest, served other content
  reg.manifests.set(
    `m/app@${pushed.manifestDigest}`,
    reg.manifests.get(`m/app@${evil.manifestDigest}`) as never,
  );
  await rejects(
    resolveImage(`docker://${reg.host}/m/app@${pushed.manifestDigest}`, opts()),
    'ERR_IMAGE_DIGEST_MISMATCH',
  );
  // Docker-Content-Digest that is not the content's
  reg.hooks.push((_req, res, { path: p }) => {
    if (!p.endsWith('/manifests/lie')) return false;
    res
      .writeHead(200, { 'content-type': MT.manifest, 'docker-content-digest': evil.manifestDigest })
      .end(pushed.manifest);
    return true;
  });
  await rejects(
    resolveImage(`docker://${reg.host}/m/app:lie`, opts()),
    'ERR_IMAGE_DIGEST_MISMATCH',
    'the registry says',
  );
  // served as an index, declares a manifest (CVE-2021-41190)
  reg.putManifest('m/app', ['confused'], pushed.manifest, MT.index);
  await rejects(
    resolveImage(`docker://${reg.host}/m/app:confused`, opts()),
    'ERR_IMAGE_MEDIA_TYPE',
    'declares',
  );
  // a manifest without mediaType but with index fields
  const { mediaType: _m, ...bare } = JSON.parse(pushed.manifest.toString()) as Record<
    string,
    unknown
  >;
  reg.putManifest('m/app', ['both'], { ...bare, manifests: [] }, 'application/json');
  await rejects(resolveImage(`docker://${reg.host}/m/app:both`, opts()), 'ERR_IMAGE_MEDIA_TYPE');
  // schema 1
  reg.putManifest(
    'm/app',
    ['old'],
    { schemaVersion: 1, name: 'm/app', tag: 'old', fsLayers: [] },
    MT.dockerManifest.replace('v2', 'v1'),
  );
  await rejects(
    resolveImage(`docker://${reg.host}/m/app:old`, opts()),
    'ERR_IMAGE_MEDIA_TYPE',
    'schema 1',
  );
  // an artifact, not an image
  reg.pushImage('m/app', ['helm'], layerFiles, {
    editManifest: (m) => ({
      ...m,
      config: { ...(m.config as object), mediaType: 'application/vnd.cncf.helm.config.v1+json' },
    }),
  });
  await rejects(
    resolveImage(`docker://${reg.host}/m/app:helm`, opts()),
    'ERR_IMAGE_MEDIA_TYPE',
    'helm',
  );
  // a manifest too large to be one
  reg.hooks.push((_req, res, { path: p }) => {
    if (!p.endsWith('/manifests/huge')) return false;
    res.writeHead(200, { 'content-type': MT.manifest });
    res.end(Buffer.alloc(9 << 20, 0x20));
    return true;
  });
  await rejects(resolveImage(`docker://${reg.host}/m/app:huge`, opts()), 'ERR_IMAGE_LIMIT');
  // a config that is not what the manifest says
  const c = pushed.configDigest;
  reg.blobs.set(
    c,
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [] },
      }).padEnd((reg.blobs.get(c) as Buffer).length),
    ),
  );
  await rejects(
    resolveImage(`docker://${reg.host}/m/app:v1`, opts()),
    'ERR_IMAGE_DIGEST_MISMATCH',
    c,
  );
});

test('non-distributable layers come from their urls when the registry does not have them', async () => {
  const pushed = reg.pushImage('fl/app', ['v1'], layerFiles, {
    editManifest: (m) => ({
      ...m,
      layers: (m.layers as Array<Record<string, unknown>>).map((l, i) =>
        i === 0
          ? {
              ...l,
              mediaType: MT.layerGzip.replace('layer.v1', 'layer.nondistributable.v1'),
              urls: [`http://${other.host}/foreign/layer0`],
            }
          : l,
      ),
    }),
  });
  const first = pushed.layers[0]?.digest as string;
  const blob = reg.blobs.get(first) as Buffer;
  reg.blobs.delete(first);
  other.hooks.push((_req, res, { path: p }) => {
    if (p !== '/foreign/layer0') return false;
    res.writeHead(200, { 'content-length': blob.length }).end(blob);
    return true;
  });
  const { rootfs } = await pull(`docker://${reg.host}/fl/app:v1`, opts());
  assert.ok(existsSync(path.join(rootfs, 'etc/os')));
  assert.is(other.count('/foreign/layer0'), 1);
});

test('concurrent fetches download each blob once; a corrupted cached blob is fetched again', async () => {
  const pushed = reg.pushImage('c/app', ['v1'], layerFiles);
  const o = opts();
  const img = await resolveImage(`docker://${reg.host}/c/app:v1`, o);
  const fo = { noHttps: true, retryDelayMs: 1 };
  const results = await Promise.all([
    fetchImageBlobs(img, fo),
    fetchImageBlobs(img, fo),
    fetchImageBlobs(img, fo),
  ]);
  assert.is(
    results.reduce((n, r) => n + r.downloaded, 0),
    2,
    'two layers, downloaded once each',
  );
  for (const l of pushed.layers) assert.is(reg.count(`/v2/c/app/blobs/${l.digest}`), 1);
  const file = blobCachePath(o.cacheDir, pushed.layers[1]?.digest as string);
  const data = readFileSync(file);
  data[0] = (data[0] as number) ^ 0xff;
  writeFileSync(file, data);
  const again = await fetchImageBlobs(img, fo);
  assert.is(again.downloaded, 1, 'the corrupted blob was replaced');
  const rootfs = path.join(tempDir(), 'rootfs');
  await unpackImageAtomic(img, rootfs);
  assert.ok(existsSync(path.join(rootfs, 'hello')));
});

/** A client of `repo` on the fake registry. */
function clientOf(repo: string, extra: RegistryOptions = {}): RegistryClient {
  return new RegistryClient(
    parseDockerReference(`${reg.host}/${repo}:v1`),
    v.parse(RegistryOptionsSchema, { noHttps: true, env: {}, retryDelayMs: 1, ...extra }),
  );
}

test('a full disk during a download is reported at once, naming where it wrote, never retried', async () => {
  const pushed = reg.pushImage('full/app', ['v1'], [[{ name: 'big', data: 'x'.repeat(200_000) }]]);
  const layer = pushed.layers[0] as { digest: string; size: number };
  const path0 = `/v2/full/app/blobs/${layer.digest}`;
  // /dev/full: every write fails with ENOSPC
  const e = await rejects(
    clientOf('full/app').downloadBlob(layer, '/dev/full', 'layer 1'),
    'ERR_IMAGE_CACHE',
    'no space left',
  );
  assert.match(e.message, /cache directory "\/dev"/);
  assert.match(e.message, new RegExp(`layer 1 ${layer.digest}`));
  assert.match(e.message, new RegExp(`needs ${layer.size} more bytes`));
  assert.match(e.hint ?? '', /free space/);
  assert.is(reg.count(path0), 1, 'not retried');
  // a cache file that cannot be created (a directory stands in its way) is not a network error
  const dir = tempDir();
  const blocked = path.join(dir, 'blobs', 'sha256', 'x.tmp-1');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(blocked, { recursive: true });
  const e2 = await rejects(
    clientOf('full/app').downloadBlob(layer, blocked, 'layer 1'),
    'ERR_IMAGE_CACHE',
    'cannot write',
  );
  assert.ok(e2.message.includes(JSON.stringify(dir)), `names the cache root: ${e2.message}`);
  assert.is(reg.count(path0), 2, 'one request, not retried');
});

test('long waits are announced: a 429 Retry-After, and a download that stalls before its timeout', async () => {
  const pushed = reg.pushImage('slow/app', ['v1'], layerFiles);
  const layer = pushed.layers[1] as { digest: string; size: number };
  const blobPath = `/v2/slow/app/blobs/${layer.digest}`;
  reg.hooks.push((_req, res, { path: p, count }) => {
    if (p.endsWith('/manifests/v1') && count === 1) {
      res.writeHead(429, { 'retry-after': '1' }).end();
      return true;
    }
    if (p === blobPath && count === 1) {
      // the headers and half the body, a pause of 1.2 s (the timeout is 1.5 s), then the rest
      const blob = reg.blobs.get(layer.digest) as Buffer;
      res.writeHead(200, { 'content-length': String(blob.length) });
      res.write(blob.subarray(0, 10));
      setTimeout(() => res.end(blob.subarray(10)), 1200);
      return true;
    }
    return false;
  });
  const waits: RegistryWait[] = [];
  const o = opts({ timeoutMs: 1500, onWait: (e) => waits.push(e) });
  const started = Date.now();
  const { rootfs } = await pull(`docker://${reg.host}/slow/app:v1`, o);
  assert.ok(existsSync(path.join(rootfs, 'hello')));
  assert.ok(Date.now() - started >= 2000, 'both waits happened');
  const retry = waits.find((w) => w.kind === 'retry');
  assert.ok(retry, JSON.stringify(waits));
  assert.is(retry.kind === 'retry' && retry.retryAfter, true);
  assert.is(retry.kind === 'retry' && retry.ms, 1000);
  assert.match(retry.message, /HTTP 429/);
  assert.match(retry.message, /retrying in 1 s \(retry 1 of 3\)/);
  assert.ok(retry.message.includes(`${reg.host}/slow/app`), retry.message);
  const stalled = waits.filter((w) => w.kind === 'stalled');
  assert.is(stalled.length, 1, JSON.stringify(waits));
  assert.match(stalled[0]?.message ?? '', /downloading layer 2 sha256:[0-9a-f]{64} from/);
  assert.match(stalled[0]?.message ?? '', /nothing received for 500 ms; waiting up to 1.5 s/);
  assert.is(reg.count(blobPath), 1, 'the stalled download was not given up');
  // quick waits are not announced: a retry after a 1 ms backoff says nothing
  waits.length = 0;
  reg.hooks.push((_req, res, { path: p, count }) => {
    if (p.endsWith('/manifests/v2') && count === 1) {
      res.writeHead(503).end();
      return true;
    }
    return false;
  });
  reg.pushImage('slow/app', ['v2'], layerFiles);
  await resolveImage(`docker://${reg.host}/slow/app:v2`, opts({ onWait: (e) => waits.push(e) }));
  assert.equal(waits, []);
});

test.run();
