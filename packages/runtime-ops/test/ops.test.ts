import { chmod, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isBerthError } from '@berth-oci/errors';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cgroupMaskPrefix, holderArgv, nsenterPrefix } from '../src/holder.js';
import { readLock } from '../src/lock.js';
import {
  containerState,
  execInContainer,
  killContainer,
  killSignal,
  opArgs,
  pauseContainer,
  type RuntimeContext,
  runtimeArgv,
} from '../src/ops.js';
import { ContainerStore } from '../src/store.js';

const crun = { name: 'crun' as const, path: '/usr/bin/crun' };
const runc = { name: 'runc' as const, path: '/usr/sbin/runc' };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(isBerthError(e), String(e));
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'ok';
}

test('runtimeArgv: prefix, runtime, global flags, operation', () => {
  const ctx: RuntimeContext = {
    runtime: crun,
    root: '/s',
    rootless: true,
    prefix: nsenterPrefix(42),
  };
  assert.equal(runtimeArgv(ctx, opArgs.kill('c1', 'KILL')), [
    'nsenter',
    '-t',
    '42',
    '-U',
    '-m',
    '--preserve-credentials',
    '--',
    '/usr/bin/crun',
    '--root',
    '/s',
    '--cgroup-manager=disabled',
    'kill',
    'c1',
    'KILL',
  ]);
  assert.equal(runtimeArgv({ runtime: runc, root: '/s', rootless: false }, opArgs.start('c')), [
    '/usr/sbin/runc',
    '--root',
    '/s',
    'start',
    'c',
  ]);
});

test('opArgs: delete --force, exec --tty, update makes the file absolute (nsenter changes cwd)', () => {
  assert.equal(opArgs.delete('c', true), ['delete', '--force', 'c']);
  assert.equal(opArgs.delete('c'), ['delete', 'c']);
  assert.equal(opArgs.exec('c', ['sh', '-c', 'exit 7'], { tty: true }), [
    'exec',
    '--tty',
    'c',
    'sh',
    '-c',
    'exit 7',
  ]);
  assert.equal(opArgs.update('c', 'r.json'), [
    'update',
    '--resources',
    path.resolve('r.json'),
    'c',
  ]);
  assert.equal(opArgs.update('c', '-'), ['update', '--resources', '-', 'c']);
});

test('killSignal: --force wins, then the argument (checked), else SIGTERM', () => {
  assert.is(killSignal({}), 'SIGTERM');
  assert.is(killSignal({ signal: 'KILL' }), 'SIGKILL');
  assert.is(killSignal({ signal: 'sigusr1' }), 'SIGUSR1');
  assert.is(killSignal({ signal: ' 9 ' }), '9');
  assert.is(killSignal({ signal: '64' }), '64');
  assert.is(killSignal({ signal: 'BOGUS', force: true }), 'SIGKILL');
  for (const bad of ['BOGUS', 'SIGFOO', '', ' ', '0', '65', '-9', 'SIG', 'KILL;', '9x']) {
    assert.throws(
      () => killSignal({ signal: bad }),
      (e: Error & { code?: string }) =>
        e.code === 'ERR_INVALID_OPTIONS' && /signal/.test(e.message),
      bad,
    );
  }
});

test('holder and cgroup-mask argv', () => {
  const h = holderArgv(['--map-root-user', '--map-users=100000,1,65536'], true);
  assert.equal(h.slice(0, 7), [
    'unshare',
    '--map-root-user',
    '--map-users=100000,1,65536',
    '--mount',
    '--propagation',
    'slave',
    '--',
  ]);
  assert.is(h.at(-1), '1');
  assert.is(holderArgv([], false).at(-1), '0');
  const m = cgroupMaskPrefix();
  assert.is(m[0], 'unshare');
  assert.ok(m.join(' ').includes('/sys/fs/cgroup/unified'));
});

/** A fake runtime that records its argv and answers like runc. */
async function fakeRuntime(dir: string, script: string): Promise<RuntimeContext> {
  const file = path.join(dir, 'runc');
  await writeFile(file, `#!/bin/sh\necho "$*" >> ${dir}/argv\n${script}\n`);
  await chmod(file, 0o755);
  return { runtime: { name: 'runc', path: file }, root: path.join(dir, 'root'), rootless: false };
}

test('operations: results parsed, errors mapped to codes naming the container', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ops-'));
  const ctx = await fakeRuntime(
    dir,
    `case "$3" in
  state) [ "$4" = c1 ] && echo '{"ociVersion":"1.0.2","id":"c1","pid":9,"status":"running","bundle":"/b"}' && exit 0
         echo 'time="x" level=error msg="container does not exist"' >&2; exit 1;;
  kill) exit 0;;
  pause) echo 'time="x" level=error msg="cannot toggle freezer: cgroups not configured for container"' >&2; exit 1;;
  exec) exit 7;;
esac`,
  );
  assert.is((await containerState(ctx, 'c1')).pid, 9);
  assert.match(await code(containerState(ctx, 'c2')), /^ERR_RUNTIME_NO_CONTAINER: .*"c2"/);
  await killContainer(ctx, 'c1', 'KILL');
  assert.match(
    await code(pauseContainer(ctx, 'c1')),
    /^ERR_RUNTIME_OP: runc pause of container "c1" failed: cannot toggle freezer/,
  );
  assert.equal(await execInContainer(ctx, 'c1', ['sh', '-c', 'exit 7']), { exitCode: 7 });
  const argv = (await readFile(path.join(dir, 'argv'), 'utf8')).trim().split('\n');
  assert.equal(argv, [
    `--root ${ctx.root} state c1`,
    `--root ${ctx.root} state c2`,
    `--root ${ctx.root} kill c1 KILL`,
    `--root ${ctx.root} pause c1`,
    `--root ${ctx.root} exec c1 sh -c exit 7`,
  ]);
});

test('ContainerStore: reserve, save, load, ids, remove; errors name the container', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'store-'));
  const store = await ContainerStore.open({ dir: path.join(root, 'oci') });
  assert.is((await stat(store.dir)).mode & 0o777, 0o700);
  await store.reserve('c1');
  assert.match(
    await code(store.reserve('c1')),
    /^ERR_RUNTIME_CONTAINER_EXISTS: container "c1" already exists/,
  );
  assert.match(await code(store.load('c9')), /^ERR_RUNTIME_NO_CONTAINER: no container "c9"/);
  assert.match(await code(store.load('../x')), /^ERR_RUNTIME_NO_CONTAINER: invalid container id/);
  const record = {
    id: 'c1',
    bundle: '/b',
    runtime: crun,
    rootless: false,
    created: new Date().toISOString(),
    terminal: true,
    log: { path: '/l', format: 'k8s-file' as const },
  };
  await store.save(record);
  assert.equal(await store.load('c1'), record);
  await mkdir(path.join(store.containersDir, 'c0'));
  assert.equal(await store.ids(), ['c0', 'c1']);
  assert.is(store.runtimeRoot('c1'), path.join(store.containersDir, 'c1', 'runtime'));
  await writeFile(path.join(store.containerDir('c0'), 'container.json'), '{"id":1}');
  assert.match(
    await code(store.load('c0')),
    /^ERR_RUNTIME_STATE_DIR: the record of container "c0" is invalid/,
  );
  await store.remove('c1');
  await store.remove('c0');
  assert.equal(await store.ids(), []);
  // a lock naming a container the store does not have is stale
  const bundle = await mkdtemp(path.join(os.tmpdir(), 'bundle-'));
  await writeFile(
    path.join(bundle, '.berth-oci.lock'),
    JSON.stringify({ id: 'gone', uid: process.getuid?.() }),
  );
  await store.lockBundle(bundle, 'new');
  assert.is((await readLock(path.join(bundle, '.berth-oci.lock')))?.id, 'new');
});

test.run();
