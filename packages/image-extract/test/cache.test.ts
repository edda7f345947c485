import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blobCacheDir, ensureBlob, storeBlob } from '../src/cache/blob-cache.js';
import { cleanCache, listCache } from '../src/cache/cache-clean.js';
import { defaultCacheDir } from '../src/cache/cache-dir.js';
import {
  findCachedRootfs,
  recordCacheUse,
  rootfsCachePath,
  unpackToCache,
} from '../src/cache/rootfs-cache.js';
import { formatImageRef } from '../src/core/image-ref.js';
import { resolveImage } from '../src/resolve.js';
import type { UnpackProgress } from '../src/unpack/unpack.js';
import { rejects, throws } from './helpers/expect.js';
import { Layout, tempDir } from './helpers/layout.js';

const digest = `sha256:${'ab'.repeat(32)}`;
/** The rootfs trees of a cache (not their metadata files). */
const trees = (cache: string): string[] =>
  readdirSync(path.join(cache, 'rootfs')).filter((n) => !n.endsWith('.json'));

test('defaultCacheDir: BERTH_CACHEDIR, then XDG_CACHE_HOME/berth, then ~/.cache/berth', () => {
  assert.is(defaultCacheDir({ BERTH_CACHEDIR: '/c/b', XDG_CACHE_HOME: '/x', HOME: '/h' }), '/c/b');
  assert.is(defaultCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' }), '/x/berth');
  assert.is(defaultCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/h' }), '/h/.cache/berth');
  assert.is(defaultCacheDir({ HOME: '/h' }), '/h/.cache/berth');
  assert.is(defaultCacheDir({}), path.join(homedir(), '.cache', 'berth'));
  assert.is(defaultCacheDir({ BERTH_CACHEDIR: '', HOME: '/h' }), '/h/.cache/berth');
});

test('rootfsCachePath validates digest and variant', () => {
  assert.is(rootfsCachePath('/cache', digest, 'sub-1'), `/cache/rootfs/${'ab'.repeat(32)}-sub-1`);
  throws(() => rootfsCachePath('/cache', 'sha256:../../x', 'v'), 'ERR_INVALID_OPTIONS');
  throws(() => rootfsCachePath('/cache', digest, '../x'), 'ERR_INVALID_OPTIONS');
  throws(() => rootfsCachePath('/cache', digest, 'Upper'), 'ERR_INVALID_OPTIONS');
  throws(() => rootfsCachePath('/cache', digest, ''), 'ERR_INVALID_OPTIONS');
});

test('a cache directory that cannot be created is ERR_IMAGE_CACHE naming it', async () => {
  const l = new Layout();
  l.writeIndex([{ desc: l.image([l.layer([{ name: 'a', data: 'a' }])]), tag: 'v1' }]);
  const img = await resolveImage(`oci:${l.dir}:v1`);
  const file = path.join(tempDir(), 'a-file');
  writeFileSync(file, '');
  const cacheDir = path.join(file, 'cache');
  const e = await rejects(
    unpackToCache({ image: img, cacheDir, variant: 'v' }),
    'ERR_IMAGE_CACHE',
    file,
  );
  assert.is((e as { name?: string }).name, 'ImageError');
});

test('findCachedRootfs only sees complete entries', async () => {
  const cache = tempDir();
  assert.is(await findCachedRootfs(cache, digest, 'v'), undefined);
  const p = rootfsCachePath(cache, digest, 'v');
  mkdirSync(`${p}.tmp-0123`, { recursive: true });
  assert.is(
    await findCachedRootfs(cache, digest, 'v'),
    undefined,
    'a temporary directory is not an entry',
  );
  mkdirSync(p);
  assert.is(await findCachedRootfs(cache, digest, 'v'), p);
});

test('unpackToCache unpacks once, privately, and reuses the entry', async () => {
  const l = new Layout();
  const img = await resolveImage(l.single([[{ name: 'etc/hostname', data: 'box\n', uid: 0 }]]));
  const cache = path.join(tempDir(), 'cache');
  const seen: number[] = [];
  const p = await unpackToCache({
    image: img,
    cacheDir: cache,
    variant: 'root',
    owner: (u, g) => {
      seen.push(u);
      return [u, g];
    },
  });
  assert.is(p, rootfsCachePath(cache, img.manifestDigest, 'root'));
  assert.is(readFileSync(path.join(p, 'etc/hostname'), 'utf8'), 'box\n');
  assert.is(lstatSync(path.join(cache, 'rootfs')).mode & 0o777, 0o700, 'cache dirs are private');
  assert.is(lstatSync(cache).mode & 0o777, 0o700);
  assert.ok(seen.length > 0, 'owner callback used');
  let calls = 0;
  const again = await unpackToCache({
    image: img,
    cacheDir: cache,
    variant: 'root',
    onProgress: () => calls++,
  });
  assert.is(again, p);
  assert.is(calls, 0, 'cache hit: nothing unpacked');
  const other = await unpackToCache({ image: img, cacheDir: cache, variant: 'user' });
  assert.not.equal(other, p);
  assert.equal(trees(cache).length, 2);
  // metadata beside each tree: references, size, the blobs it came from
  const meta = JSON.parse(readFileSync(`${p}.json`, 'utf8'));
  assert.is(meta.manifestDigest, img.manifestDigest);
  assert.equal(meta.refs, [formatImageRef(img.ref)]);
  assert.ok(meta.bytes > 0);
  assert.ok(meta.blobs.includes(img.layers[0]?.digest));
});

test('concurrent unpackToCache: one wins, the other returns the winner, no temporaries left', async () => {
  const l = new Layout();
  const files = Array.from({ length: 300 }, (_, i) => ({ name: `d/f${i}`, data: `${i}` }));
  const img = await resolveImage(l.single([files]));
  const cache = path.join(tempDir(), 'cache');
  let unpacks = 0;
  const onProgress = (e: UnpackProgress) => {
    if (e.phase === 'extracted') unpacks++;
  };
  const [a, b, c] = await Promise.all([
    unpackToCache({ image: img, cacheDir: cache, variant: 'v', onProgress }),
    unpackToCache({ image: img, cacheDir: cache, variant: 'v', onProgress }),
    unpackToCache({ image: img, cacheDir: cache, variant: 'v', onProgress }),
  ]);
  assert.is(a, b);
  assert.is(b, c);
  assert.is(unpacks, 1, 'the lock lets one of them unpack; the others wait and reuse it');
  assert.equal(trees(cache), [path.basename(a as string)]);
  assert.is(readdirSync(path.join(a as string, 'd')).length, 300);
});

test('unpackToCache failures leave no entry', async () => {
  const l = new Layout();
  const img = await resolveImage(l.single([[{ name: 'x', type: 'link', linkname: 'missing' }]]));
  const cache = path.join(tempDir(), 'cache');
  await rejects(
    unpackToCache({ image: img, cacheDir: cache, variant: 'v' }),
    'ERR_IMAGE_LAYER_INVALID',
  );
  assert.equal(readdirSync(path.join(cache, 'rootfs')), []);
  assert.not.ok(existsSync(rootfsCachePath(cache, img.manifestDigest, 'v')));
  assert.not.ok(existsSync(`${rootfsCachePath(cache, img.manifestDigest, 'v')}.json`));
  await rejects(
    unpackToCache({ image: img, cacheDir: cache, variant: 'Bad!' }),
    'ERR_INVALID_OPTIONS',
  );
});

test('a temporary tree left by a killed unpack is never used and is removed by the next unpack', async () => {
  const l = new Layout();
  const img = await resolveImage(l.single([[{ name: 'ok', data: 'ok\n' }]]));
  const cache = path.join(tempDir(), 'cache');
  const final = rootfsCachePath(cache, img.manifestDigest, 'v');
  // what a kill -9 in the middle of an unpack leaves: a half-written temporary tree
  const stale = `${final}.tmp-deadbeef0000`;
  mkdirSync(path.join(stale, 'ro'), { recursive: true });
  writeFileSync(path.join(stale, 'ro', 'half'), 'half');
  chmodSync(path.join(stale, 'ro'), 0o555);
  assert.is(await findCachedRootfs(cache, img.manifestDigest, 'v'), undefined);
  const p = await unpackToCache({ image: img, cacheDir: cache, variant: 'v' });
  assert.is(readFileSync(path.join(p, 'ok'), 'utf8'), 'ok\n');
  assert.not.ok(existsSync(stale), 'the stale temporary tree is gone');
  assert.equal(trees(cache), [path.basename(final)]);
});

test('listCache and recordCacheUse: entries, references, last use, blobs', async () => {
  const l = new Layout();
  const img = await resolveImage(l.single([[{ name: 'f', data: 'data\n' }]]));
  const cache = path.join(tempDir(), 'cache');
  assert.equal((await listCache(cache)).images, []);
  const p = await unpackToCache({ image: img, cacheDir: cache, variant: 'v' });
  mkdirSync(`${p}.tmp-abc`);
  const again = await resolveImage(`${l.dir}:latest`);
  await recordCacheUse(cache, again, 'v');
  const listing = await listCache(cache);
  assert.is(listing.images.length, 1);
  const e = listing.images[0];
  assert.is(e?.manifestDigest, img.manifestDigest);
  assert.is(e?.variant, 'v');
  assert.is(e?.path, p);
  assert.equal(e?.refs, [`oci:${l.dir}:latest`]);
  assert.ok((e?.bytes ?? 0) > 0);
  assert.ok(Date.now() - Date.parse(e?.lastUsed ?? '') < 60_000);
  assert.is(listing.temporaries, 1);
});

test('cleanCache: temporaries by default, one image, or everything', async () => {
  const l = new Layout();
  const a = await resolveImage(l.single([[{ name: 'a', data: 'a' }]]));
  const l2 = new Layout();
  const b = await resolveImage(l2.single([[{ name: 'b', data: 'b' }]]));
  const cache = path.join(tempDir(), 'cache');
  const pa = await unpackToCache({ image: a, cacheDir: cache, variant: 'v' });
  const pb = await unpackToCache({ image: b, cacheDir: cache, variant: 'v' });
  mkdirSync(path.join(`${pa}.tmp-123`, 'x'), { recursive: true });
  chmodSync(`${pa}.tmp-123`, 0o500);
  let removed: string[] = [];
  const removeTrees = async (paths: string[]) => {
    removed = paths;
    for (const t of paths) {
      chmodSync(t, 0o700);
      (await import('node:fs')).rmSync(t, { recursive: true, force: true });
    }
  };
  let r = await cleanCache({ cacheDir: cache, removeTrees });
  assert.equal(removed, [`${pa}.tmp-123`], 'only the temporary tree');
  assert.equal(
    r.removed.map((x) => x.kind),
    ['temporary'],
  );
  assert.ok(existsSync(pa) && existsSync(pb));
  await rejects(cleanCache({ cacheDir: cache, image: 'oci:/nothing:here' }), 'ERR_IMAGE_NOT_FOUND');
  r = await cleanCache({ cacheDir: cache, image: formatImageRef(a.ref) });
  assert.not.ok(existsSync(pa));
  assert.not.ok(existsSync(`${pa}.json`));
  assert.ok(existsSync(pb));
  r = await cleanCache({ cacheDir: cache, image: b.manifestDigest.slice(0, 19) });
  assert.not.ok(existsSync(pb));
  await unpackToCache({ image: a, cacheDir: cache, variant: 'v' });
  r = await cleanCache({ cacheDir: cache, all: true });
  assert.equal(readdirSync(cache), []);
});

test('storing a blob, or finding it cached, removes the temporaries a killed writer left', async () => {
  const cache = tempDir();
  const data = Buffer.from('{"schemaVersion":2}');
  const hex = createHash('sha256').update(data).digest('hex');
  const dir = blobCacheDir(cache);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${hex}.tmp-killed1`), '{"sch');
  await storeBlob(cache, `sha256:${hex}`, data);
  assert.equal(readdirSync(dir), [hex]);
  // a layer download killed after another one had stored the layer
  writeFileSync(path.join(dir, `${hex}.tmp-killed2`), '{');
  const desc = { digest: `sha256:${hex}`, size: data.length };
  const fetched = await ensureBlob(cache, desc, 'layer', 'test', async () => {
    throw new Error('no download expected: the blob is cached');
  });
  assert.is(fetched, false);
  assert.equal(readdirSync(dir), [hex]);
});

test.run();
