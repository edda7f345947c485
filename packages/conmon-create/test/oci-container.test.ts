import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isBerthError } from '@berth-oci/errors';
import { ContainerStore, readLock } from '@berth-oci/runtime-ops';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conmonFiles } from '../src/args.js';
import { createOciContainer, deleteOciContainer } from '../src/oci-container.js';
import { fakeConmon, fakeRuntime } from './fixtures/fakes.js';

async function failure(p: Promise<unknown>): Promise<string> {
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
const DEAD_PID = 2 ** 22 + 4321;

async function setup() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oci-'));
  const bundle = path.join(dir, 'bundle');
  await mkdir(bundle);
  await writeFile(path.join(bundle, 'config.json'), '{"process":{"terminal":false}}');
  const store = await ContainerStore.open({ dir: path.join(dir, 'oci') });
  const runtime = await fakeRuntime(dir);
  return { dir, bundle, store, runtime };
}

test('createOciContainer records the container and takes the bundle; deleteOciContainer undoes it all', async () => {
  const { dir, bundle, store, runtime } = await setup();
  const conmon = await fakeConmon(
    dir,
    `printf ${DEAD_PID} > "$pidfile"; printf '{"data": 4242}\\n' >&3`,
  );
  const pidFile = path.join(dir, 'c1.pid');
  const log = path.join(dir, 'c1.json');
  const c = await createOciContainer({
    store,
    id: 'c1',
    bundle,
    runtime,
    conmon,
    pidFile,
    logPath: log,
    logFormat: 'json',
  });
  assert.is(c.record.pid, 4242);
  assert.is(c.record.conmonPid, DEAD_PID);
  assert.equal(await store.load('c1'), JSON.parse(JSON.stringify(c.record)));
  assert.equal(c.record.log, { path: log, format: 'json' });
  assert.is(await readFile(pidFile, 'utf8'), '4242');
  assert.is((await readLock(path.join(bundle, '.berth-oci.lock')))?.id, 'c1');
  c.conmon.release();

  // a second container on the same bundle: refused, and it leaves nothing
  assert.match(
    await failure(createOciContainer({ store, id: 'c2', bundle, runtime, conmon })),
    /^ERR_RUNTIME_BUNDLE_LOCKED: bundle ".*" is locked by container "c1"/,
  );
  assert.equal(await store.ids(), ['c1']);

  // what conmon would have left: the output log and the attach socket
  await writeFile(conmonFiles(store.containerDir('c1'), 'c1').log, 't1 stdout F hello\n');
  await writeFile(path.join(bundle, 'attach'), '');
  await deleteOciContainer(c);
  assert.equal(await store.ids(), []);
  assert.is(await readLock(path.join(bundle, '.berth-oci.lock')), undefined);
  assert.not.ok(await exists(path.join(bundle, 'attach')));
  assert.equal(JSON.parse(await readFile(log, 'utf8')), {
    log: 'hello\n',
    stream: 'stdout',
    time: 't1',
  });
  assert.match(await readFile(path.join(dir, 'argv'), 'utf8'), /state c1\n.*delete c1\n$/);
});

test('createOciContainer: a failed create leaves the bundle free and no state', async () => {
  const { dir, bundle, store, runtime } = await setup();
  const conmon = await fakeConmon(dir, `printf '{"data": -1, "message": "boom"}\\n' >&3`);
  assert.match(
    await failure(createOciContainer({ store, id: 'c1', bundle, runtime, conmon })),
    /^ERR_CONMON_CREATE: cannot create container "c1": boom/,
  );
  assert.equal(await store.ids(), []);
  assert.is(await readLock(path.join(bundle, '.berth-oci.lock')), undefined);
  const noDir = path.join(dir, 'no-such-dir', 'c1.pid');
  assert.match(
    await failure(createOciContainer({ store, id: 'c1', bundle, runtime, conmon, pidFile: noDir })),
    /^ERR_CONMON_PATH: cannot write the pid file ".*no-such-dir\/c1.pid": its directory/,
  );
  assert.equal(await store.ids(), [], 'refused before anything was made');
  assert.is(await readLock(path.join(bundle, '.berth-oci.lock')), undefined);
  assert.match(
    await failure(createOciContainer({ store, id: 'c1', bundle: dir, runtime, conmon })),
    /^ERR_RUNTIME_BUNDLE: bundle ".*" has no config\.json/,
  );
  assert.match(
    await failure(
      createOciContainer({ store, id: 'c1', bundle, runtime, conmon, pidfile: 'x' } as never),
    ),
    /^ERR_INVALID_OPTIONS: .*pidfile/,
  );
});

test.run();
