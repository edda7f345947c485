import { chmod, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isBerthError } from '@berth-oci/errors';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkBundle,
  openContainer,
  removeContainer,
  requireStatus,
  type StoredContainer,
} from '../src/container.js';
import { readLock } from '../src/lock.js';
import { ContainerStore } from '../src/store.js';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(isBerthError(e), String(e));
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'ok';
}
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

test('checkBundle: absolute path and terminal; each defect named', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bundle-'));
  assert.match(
    await code(checkBundle(path.join(dir, 'nope'))),
    /^ERR_RUNTIME_BUNDLE: bundle ".*nope" does not exist/,
  );
  await writeFile(path.join(dir, 'file'), '');
  assert.match(await code(checkBundle(path.join(dir, 'file'))), /is not a directory/);
  assert.match(await code(checkBundle(dir)), /has no config\.json/);
  await writeFile(path.join(dir, 'config.json'), '{');
  assert.match(await code(checkBundle(dir)), /config\.json" is not valid JSON/);
  await writeFile(path.join(dir, 'config.json'), '{"process":{"terminal":true}}');
  const cwd = process.cwd();
  process.chdir(path.dirname(dir));
  try {
    assert.equal(await checkBundle(path.basename(dir)), { bundle: dir, terminal: true });
  } finally {
    process.chdir(cwd);
  }
});

/** A store with container c1 recorded, its bundle taken, and a fake runc whose state is `status`. */
async function setup(status: string | undefined): Promise<{ c: StoredContainer; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'store-'));
  const runc = path.join(dir, 'runc');
  await writeFile(
    runc,
    `#!/bin/sh
echo "$*" >> ${dir}/argv
case "$3" in
  state) [ -f ${dir}/status ] || { echo 'level=error msg="container does not exist"' >&2; exit 1; }
         echo "{\\"ociVersion\\":\\"1.0.2\\",\\"id\\":\\"c1\\",\\"pid\\":9,\\"status\\":\\"$(cat ${dir}/status)\\",\\"bundle\\":\\"/b\\"}";;
esac
exit 0
`,
  );
  await chmod(runc, 0o755);
  if (status) await writeFile(path.join(dir, 'status'), status);
  const store = await ContainerStore.open({ dir: path.join(dir, 'oci') });
  const bundle = path.join(dir, 'bundle');
  await mkdir(bundle);
  await store.reserve('c1');
  await store.lockBundle(bundle, 'c1');
  const record = {
    id: 'c1',
    bundle,
    runtime: { name: 'runc' as const, path: runc },
    rootless: false,
    created: new Date().toISOString(),
    terminal: false,
    log: { path: '/l', format: 'k8s-file' as const },
  };
  await store.save(record);
  const ctx = { runtime: record.runtime, root: store.runtimeRoot('c1'), rootless: false };
  return { c: { store, record, ctx }, dir };
}

test('openContainer loads the record; an unknown id is ERR_RUNTIME_NO_CONTAINER', async () => {
  const { c } = await setup('created');
  assert.equal((await openContainer(c.store, 'c1')).record, c.record);
  assert.match(
    await code(openContainer(c.store, 'c2')),
    /^ERR_RUNTIME_NO_CONTAINER: no container "c2"/,
  );
});

test('requireStatus: the state when allowed, else a message naming the action and status', async () => {
  const { c } = await setup('running');
  assert.is((await requireStatus(c, ['running'], 'exec in')).status, 'running');
  assert.match(
    await code(requireStatus(c, ['created'], 'start')),
    /^ERR_RUNTIME_CONTAINER_STATE: cannot start container "c1": it is running/,
  );
});

test('removeContainer: refuses a running container without force; with force, nothing is left', async () => {
  const { c, dir } = await setup('running');
  assert.match(
    await code(removeContainer(c)),
    /^ERR_RUNTIME_CONTAINER_STATE: cannot delete container "c1": it is running/,
  );
  assert.ok(await exists(c.store.containerDir('c1')), 'kept after the refusal');
  let hooked = false;
  await removeContainer(c, {
    force: true,
    afterDelete: async () => {
      hooked = true;
    },
  });
  assert.ok(hooked);
  const argv = (await readFile(path.join(dir, 'argv'), 'utf8')).trim().split('\n');
  assert.equal(argv.at(-1), `--root ${c.ctx.root} delete --force c1`);
  assert.not.ok(await exists(c.store.containerDir('c1')));
  assert.is(await readLock(path.join(c.record.bundle, '.berth-oci.lock')), undefined);
});

test('removeContainer: a stopped container is deleted plainly; one the runtime lost is cleaned up', async () => {
  const stopped = await setup('stopped');
  await removeContainer(stopped.c);
  const argv = (await readFile(path.join(stopped.dir, 'argv'), 'utf8')).trim().split('\n');
  assert.equal(argv.at(-1), `--root ${stopped.c.ctx.root} delete c1`);
  const lost = await setup(undefined);
  await removeContainer(lost.c);
  const argv2 = (await readFile(path.join(lost.dir, 'argv'), 'utf8')).trim().split('\n');
  assert.not.ok(
    argv2.some((l) => l.includes('delete')),
    'no delete for an unknown container',
  );
  assert.not.ok(await exists(lost.c.store.containerDir('c1')));
  assert.match(
    await code(removeContainer(lost.c, { forse: true } as never)),
    /^ERR_INVALID_OPTIONS: .*forse/,
  );
});

test.run();
