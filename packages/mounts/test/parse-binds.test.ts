import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseBindSpecs } from '../src/binds.js';
import { rejects } from './helpers.js';

const rw = (source: string, destination = source) => ({ source, destination, readonly: false });
const ro = (source: string, destination = source) => ({ source, destination, readonly: true });

test('src alone binds to the same path', () => {
  assert.equal(parseBindSpecs(['/data']), [rw('/data')]);
});

test('src:dst', () => {
  assert.equal(parseBindSpecs(['/srv/data:/data']), [rw('/srv/data', '/data')]);
});

test('src:dst:ro and src:dst:rw', () => {
  assert.equal(parseBindSpecs(['/a:/b:ro', '/c:/d:rw']), [ro('/a', '/b'), rw('/c', '/d')]);
});

test('a relative source keeps its text (made absolute by bindMounts)', () => {
  assert.equal(parseBindSpecs(['data:/data']), [rw('data', '/data')]);
});

test('several specs in one value, and several values, keep their order', () => {
  assert.equal(parseBindSpecs(['/a,/b:/c', '/d:/e:ro,/f']), [
    rw('/a'),
    rw('/b', '/c'),
    ro('/d', '/e'),
    rw('/f'),
  ]);
});

test('options continue after a comma: src:dst:rw,ro is read-only, then a new spec', () => {
  assert.equal(parseBindSpecs(['/a:/b:rw,ro,/c']), [ro('/a', '/b'), rw('/c')]);
  assert.equal(parseBindSpecs(['/a:/b:ro,rw']), [ro('/a', '/b')], 'ro wins, as upstream');
});

test('white space around specs and empty items are ignored', () => {
  assert.equal(parseBindSpecs([' /a : /b : ro , ,/c,']), [ro('/a', '/b'), rw('/c')]);
  assert.equal(parseBindSpecs([]), []);
});

test('destinations are cleaned', () => {
  assert.equal(parseBindSpecs(['/a://data//x/./y/']), [rw('/a', '/data/x/y')]);
  assert.equal(parseBindSpecs(['/a:/data/../other']), [rw('/a', '/other')]);
  assert.equal(parseBindSpecs(['/srv/./data/']), [rw('/srv/./data/', '/srv/data')]);
});

test('an unknown option is ERR_MOUNTS_BIND_OPTION', async () => {
  const e = await rejects(() => parseBindSpecs(['/a:/b:x']), 'ERR_MOUNTS_BIND_OPTION');
  assert.is(e.message, '"x" is not a valid bind option');
  await rejects(() => parseBindSpecs(['/a:/b:ro,x']), 'ERR_MOUNTS_BIND_DESTINATION'); // x is a new spec
  await rejects(() => parseBindSpecs(['/a:/b:x,ro']), 'ERR_MOUNTS_BIND_OPTION', /"x"/);
  await rejects(() => parseBindSpecs(['/a:/b:']), 'ERR_MOUNTS_BIND_OPTION', /^"" is not/);
  await rejects(() => parseBindSpecs(['/a:/b:nosuid']), 'ERR_MOUNTS_BIND_OPTION', /"nosuid"/);
});

test('image-src= and id= are ERR_MOUNTS_BIND_UNSUPPORTED', async () => {
  await rejects(
    () => parseBindSpecs(['img.sif:/data:image-src=/']),
    'ERR_MOUNTS_BIND_UNSUPPORTED',
    /image-src=\//,
  );
  await rejects(
    () => parseBindSpecs(['img.sif:/data:ro,id=2']),
    'ERR_MOUNTS_BIND_UNSUPPORTED',
    /id=2/,
  );
});

test('a relative destination is ERR_MOUNTS_BIND_DESTINATION', async () => {
  const e = await rejects(() => parseBindSpecs(['/a:data']), 'ERR_MOUNTS_BIND_DESTINATION');
  assert.is(e.message, 'bind destination "data" must be an absolute path');
  const e2 = await rejects(() => parseBindSpecs(['data']), 'ERR_MOUNTS_BIND_DESTINATION');
  assert.match(e2.hint ?? '', /data:\/path\/in\/container/);
});

test('an empty destination is ERR_MOUNTS_BIND_DESTINATION', async () => {
  await rejects(() => parseBindSpecs(['/a:']), 'ERR_MOUNTS_BIND_DESTINATION', /""/);
});

test('a destination that climbs above / is refused', async () => {
  await rejects(
    () => parseBindSpecs(['/a:/../etc']),
    'ERR_MOUNTS_BIND_DESTINATION',
    /climbs above/,
  );
  await rejects(() => parseBindSpecs(['/a:/x/../../etc']), 'ERR_MOUNTS_BIND_DESTINATION');
});

test('a destination of / is refused', async () => {
  await rejects(() => parseBindSpecs(['/a:/']), 'ERR_MOUNTS_BIND_DESTINATION', /container root/);
  await rejects(() => parseBindSpecs(['/a:/x/..']), 'ERR_MOUNTS_BIND_DESTINATION');
});

test('an empty source is ERR_MOUNTS_BIND_SPEC', async () => {
  await rejects(() => parseBindSpecs([':/data']), 'ERR_MOUNTS_BIND_SPEC', /empty source/);
  await rejects(() => parseBindSpecs(['::ro']), 'ERR_MOUNTS_BIND_SPEC');
});

test('more than three fields is ERR_MOUNTS_BIND_SPEC', async () => {
  await rejects(() => parseBindSpecs(['/a:/b:ro:x']), 'ERR_MOUNTS_BIND_SPEC', /three/);
});

test('parseBindSpecs validates its input', async () => {
  await rejects(() => parseBindSpecs('/a' as never), 'ERR_INVALID_OPTIONS');
});

test('a value that names no bind is refused', async () => {
  for (const value of ['', ',,,', ' , '])
    await rejects(() => parseBindSpecs([value]), 'ERR_MOUNTS_BIND_SPEC', /names no path/);
  assert.equal(parseBindSpecs(['/a,,/b']).length, 2);
});

test.run();
