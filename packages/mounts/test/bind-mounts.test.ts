import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { minimalSpec, validateSpec } from '@berth-oci/bundle-spec';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bindMounts, checkBindSource, parseBindSpecs } from '../src/binds.js';
import { rejects } from './helpers.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-mounts-'));
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'file.txt'), 'x');
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a plain bind: rbind,nodev,nosuid', async () => {
  const src = join(dir, 'data');
  assert.equal(await bindMounts(parseBindSpecs([`${src}:/data`])), [
    { destination: '/data', type: 'none', source: src, options: ['rbind', 'nodev', 'nosuid'] },
  ]);
});

test('a read-only bind adds ro; a file can be bound', async () => {
  const src = join(dir, 'file.txt');
  assert.equal(await bindMounts(parseBindSpecs([`${src}:/etc/x.txt:ro`])), [
    {
      destination: '/etc/x.txt',
      type: 'none',
      source: src,
      options: ['rbind', 'nodev', 'nosuid', 'ro'],
    },
  ]);
});

test('allowSetuid leaves nosuid off', async () => {
  const [m] = await bindMounts(parseBindSpecs([`${dir}:/d:ro`]), { allowSetuid: true });
  assert.equal(m?.options, ['rbind', 'nodev', 'ro']);
});

test('sources under /proc and /sys always get nosuid,noexec', async () => {
  for (const src of ['/proc', '/sys', '/proc/self', '/sys/kernel']) {
    const [m] = await bindMounts([{ source: src, destination: '/mnt', readonly: false }], {
      allowSetuid: true,
    });
    assert.equal(m?.options, ['rbind', 'nodev', 'nosuid', 'noexec'], src);
  }
  const [m] = await bindMounts([{ source: '/proc', destination: '/mnt', readonly: true }]);
  assert.equal(m?.options, ['rbind', 'nodev', 'nosuid', 'noexec', 'ro']);
});

test('a source is judged after resolving: /proc/../tmp is a plain bind', async () => {
  const [m] = await bindMounts([{ source: '/proc/../tmp', destination: '/t', readonly: false }]);
  assert.is(m?.source, '/tmp');
  assert.equal(m?.options, ['rbind', 'nodev', 'nosuid']);
});

test('relative sources are resolved against cwd', async () => {
  const ms = await bindMounts(parseBindSpecs(['data:/data', './file.txt:/f']), { cwd: dir });
  assert.equal(
    ms.map((x) => x.source),
    [join(dir, 'data'), join(dir, 'file.txt')],
  );
});

test('relative sources default to process.cwd()', async () => {
  const [m] = await bindMounts([{ source: '.', destination: '/here', readonly: false }]);
  assert.is(m?.source, process.cwd());
});

test('a missing source is ERR_MOUNTS_BIND_SOURCE naming the absolute path', async () => {
  const e = await rejects(
    () => bindMounts(parseBindSpecs(['/does/not/exist:/x'])),
    'ERR_MOUNTS_BIND_SOURCE',
  );
  assert.is(e.message, 'bind source "/does/not/exist" does not exist');
  assert.match(e.hint ?? '', /path/);
  const e2 = await rejects(
    () => bindMounts(parseBindSpecs(['nope:/x']), { cwd: dir }),
    'ERR_MOUNTS_BIND_SOURCE',
  );
  assert.is(e2.message, `bind source "${join(dir, 'nope')}" does not exist`);
  assert.ok(e2.hint?.includes(dir), 'the hint names the directory relative paths resolve against');
});

test('a device node binds with bind,nosuid and no nodev, to the same path', async () => {
  assert.equal(await bindMounts(parseBindSpecs(['/dev/null', '/dev/zero:/dev/zero:ro'])), [
    { destination: '/dev/null', type: 'none', source: '/dev/null', options: ['bind', 'nosuid'] },
    {
      destination: '/dev/zero',
      type: 'none',
      source: '/dev/zero',
      options: ['bind', 'nosuid', 'ro'],
    },
  ]);
});

test('a device bound elsewhere is ERR_MOUNTS_BIND_DEVICE', async () => {
  await rejects(
    () => bindMounts(parseBindSpecs(['/dev/null:/null'])),
    'ERR_MOUNTS_BIND_DEVICE',
    /"\/dev\/null" must be the same as destination "\/null"/,
  );
});

test('the whole host /dev goes only to /dev: a full bind and a new devpts', async () => {
  assert.equal(await bindMounts(parseBindSpecs(['/dev']), { hostRoot: true, ttyGid: 5 }), [
    {
      destination: '/dev',
      type: 'bind',
      source: '/dev',
      options: ['nosuid', 'rprivate', 'rbind', 'rw'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
  ]);
  await rejects(
    () => bindMounts(parseBindSpecs(['/dev:/hostdev'])),
    'ERR_MOUNTS_BIND_DEVICE',
    /host \/dev may only be bound to \/dev/,
  );
});

test('checkBindSource makes the source absolute and names a missing one', async () => {
  assert.is(await checkBindSource('.', dir), dir);
  await rejects(() => checkBindSource('nope', dir), 'ERR_MOUNTS_BIND_SOURCE', /nope/);
});

test('bindMounts validates its input', async () => {
  await rejects(
    () => bindMounts([{ source: '', destination: '/x', readonly: false }]),
    'ERR_INVALID_OPTIONS',
  );
  await rejects(
    () => bindMounts([{ source: '/tmp', destination: 'x', readonly: false }]),
    'ERR_INVALID_OPTIONS',
  );
  await rejects(() => bindMounts([], { cwd: '' }), 'ERR_INVALID_OPTIONS');
});

test('bind mounts make a valid spec', async () => {
  const spec = minimalSpec();
  spec.mounts = await bindMounts(parseBindSpecs([`${dir}:/d:ro,/proc:/hostproc,/dev/null`]));
  assert.is(spec.mounts.length, 3);
  validateSpec(spec);
});

test.run();
