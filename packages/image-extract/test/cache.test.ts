import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  defaultCacheDir,
  findCachedRootfs,
  resolveImage,
  rootfsCachePath,
  unpackToCache,
} from '../src/index.js';
import { rejects, throws } from './helpers/expect.js';
import { Layout, tempDir } from './helpers/layout.js';

const digest = `sha256:${'ab'.repeat(32)}`;

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
  assert.equal(readdirSync(path.join(cache, 'rootfs')).length, 2);
});

test('concurrent unpackToCache: one wins, the other returns the winner, no temporaries left', async () => {
  const l = new Layout();
  const files = Array.from({ length: 300 }, (_, i) => ({ name: `d/f${i}`, data: `${i}` }));
  const img = await resolveImage(l.single([files]));
  const cache = path.join(tempDir(), 'cache');
  const [a, b, c] = await Promise.all([
    unpackToCache({ image: img, cacheDir: cache, variant: 'v' }),
    unpackToCache({ image: img, cacheDir: cache, variant: 'v' }),
    unpackToCache({ image: img, cacheDir: cache, variant: 'v' }),
  ]);
  assert.is(a, b);
  assert.is(b, c);
  assert.equal(readdirSync(path.join(cache, 'rootfs')), [path.basename(a as string)]);
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
  await rejects(
    unpackToCache({ image: img, cacheDir: cache, variant: 'Bad!' }),
    'ERR_INVALID_OPTIONS',
  );
});

test.run();
