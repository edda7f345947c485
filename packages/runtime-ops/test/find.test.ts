import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isBerthError } from '@berth-oci/errors';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findRuntime } from '../src/find.js';
import { globalArgs, needsCgroupMask } from '../src/host.js';

async function fakeBin(dir: string, name: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(file, '#!/bin/sh\necho "$0 $*"\n');
  await chmod(file, 0o755);
  return file;
}

async function rejects(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(isBerthError(e), `not a berth error: ${e}`);
    assert.is((e as { code: string }).code, code);
    if (pattern) assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable('expected a rejection');
}

test('crun is preferred over runc on PATH', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-'));
  const runc = await fakeBin(path.join(dir, 'a'), 'runc');
  const crun = await fakeBin(path.join(dir, 'b'), 'crun');
  // PATH only, no system dirs: use a PATH whose dirs come first.
  const env = { PATH: `${path.dirname(runc)}:${path.dirname(crun)}` };
  const rt = await findRuntime({ env });
  assert.is(rt.name, 'crun');
  // the system dirs may hold a real crun; ours comes first on PATH
  assert.is(rt.path, crun);
});

test('--runtime by name and BERTH_RUNTIME choose the runtime', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-'));
  const runc = await fakeBin(dir, 'runc');
  await fakeBin(dir, 'crun');
  assert.equal(await findRuntime({ runtime: 'runc', env: { PATH: dir } }), {
    name: 'runc',
    path: runc,
  });
  assert.equal(await findRuntime({ env: { PATH: dir, BERTH_RUNTIME: 'runc' } }), {
    name: 'runc',
    path: runc,
  });
  // the option wins over the environment
  assert.is(
    (await findRuntime({ runtime: 'crun', env: { PATH: dir, BERTH_RUNTIME: 'runc' } })).name,
    'crun',
  );
});

test('--runtime as a path', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-'));
  const file = await fakeBin(dir, 'crun-1.8');
  assert.equal(await findRuntime({ runtime: file, env: { PATH: '' } }), {
    name: 'crun',
    path: file,
  });
  await rejects(
    findRuntime({ runtime: path.join(dir, 'nope/runc') }),
    'ERR_RUNTIME_NOT_FOUND',
    /nope\/runc/,
  );
  const other = await fakeBin(dir, 'youki');
  await rejects(findRuntime({ runtime: other }), 'ERR_RUNTIME_UNKNOWN', /youki/);
});

test('unknown runtime names are refused', async () => {
  await rejects(findRuntime({ runtime: 'docker' }), 'ERR_RUNTIME_UNKNOWN', /"docker"/);
});

test('needsCgroupMask: only crun on a hybrid host', () => {
  const crun = { name: 'crun' as const, path: '/usr/bin/crun' };
  const runc = { name: 'runc' as const, path: '/usr/bin/runc' };
  assert.ok(needsCgroupMask(crun, 'hybrid'));
  assert.not.ok(needsCgroupMask(crun, 'unified'));
  assert.not.ok(needsCgroupMask(runc, 'hybrid'));
});

test('globalArgs: rootless crun gets no cgroup manager', () => {
  const crun = { name: 'crun' as const, path: '/usr/bin/crun' };
  const runc = { name: 'runc' as const, path: '/usr/bin/runc' };
  assert.equal(globalArgs(crun, { root: '/r', rootless: true }), [
    '--root',
    '/r',
    '--cgroup-manager=disabled',
  ]);
  assert.equal(globalArgs(crun, { root: '/r', rootless: false }), ['--root', '/r']);
  assert.equal(globalArgs(runc, { root: '/r', rootless: true }), ['--root', '/r']);
});

test.run();
