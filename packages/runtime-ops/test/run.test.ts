import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runContainer, runForeground, runtimeStateRoot } from '../src/index.js';
import { runtimeLogErrors, startContainerRun } from '../src/run.js';

test('runForeground returns the exit code', async () => {
  assert.equal(await runForeground('sh', ['-c', 'exit 3']), { exitCode: 3 });
  assert.equal(await runForeground('true', []), { exitCode: 0 });
});

test('runForeground reports death by signal as 128+n', async () => {
  const r = await runForeground('sh', ['-c', 'kill -KILL $$']);
  assert.is(r.exitCode, 137);
  assert.is(r.signal, 'SIGKILL');
});

test('runForeground passes SIGTERM on to the child', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fg-'));
  const ready = path.join(dir, 'ready');
  const running = runForeground('sh', [
    '-c',
    `trap 'exit 42' TERM; : > ${ready}; while :; do sleep 0.05; done`,
  ]);
  for (let i = 0; i < 200; i++) {
    try {
      await readFile(ready);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  process.kill(process.pid, 'SIGTERM');
  assert.equal(await running, { exitCode: 42 });
});

test('runContainer runs `runtime --root R run --bundle B ID` through wrap()', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rc-'));
  const log = path.join(dir, 'argv');
  const fake = path.join(dir, 'runc');
  await writeFile(fake, `#!/bin/sh\necho "$*" > ${log}\nexit 7\n`);
  await chmod(fake, 0o755);
  const status = await runContainer({
    runtime: { name: 'runc', path: fake },
    bundle: '/b',
    id: 'c1',
    root: '/state',
    rootless: false,
    wrap: (argv) => ['env', 'X=1', ...argv],
  });
  assert.is(status.exitCode, 7);
  assert.is((await readFile(log, 'utf8')).trim(), '--root /state run --bundle /b c1');
});

test('runtimeStateRoot is a private directory', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sr-'));
  const uid = process.getuid?.() ?? 0;
  const root = await runtimeStateRoot({ uid: uid === 0 ? 1 : uid, env: { TMPDIR: dir } }).catch(
    (e) => e,
  );
  if (uid === 0) {
    // uid 1 cannot own a directory we create as root: the check must refuse it
    assert.is((root as { code?: string }).code, 'ERR_RUNTIME_STATE_DIR');
  } else {
    assert.is(root, path.join(dir, `berth-${uid}`));
  }
});

test('runtimeLogErrors: the error messages of a JSON runtime log', () => {
  const log = [
    '{"level":"warning","msg":"unable to get oom kill count"}',
    'not json',
    '{"level":"error","msg":"runc run failed: exec: \\"/x\\": no such file"}',
    '',
  ].join('\n');
  assert.equal(runtimeLogErrors(log), ['exec: "/x": no such file']);
});

async function fakeRuntime(body: string): Promise<{ dir: string; fake: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rc-'));
  const fake = path.join(dir, 'runc');
  await writeFile(fake, `#!/bin/sh\n${body}\n`);
  await chmod(fake, 0o755);
  return { dir, fake };
}

test("a run that fails with an error in the runtime log rejects; the container's own exit 1 does not", async () => {
  // the fake runtime: --root R --log FILE --log-format json run --pid-file P --bundle B ID
  const failing = await fakeRuntime(
    'echo \'{"level":"error","msg":"sethostname: invalid argument"}\' > "$4"; exit 1',
  );
  const run = (fake: string, dir: string) =>
    runContainer({
      runtime: { name: 'runc', path: fake },
      bundle: dir,
      id: 'c1',
      root: '/state',
      rootless: false,
      logFile: path.join(dir, 'runtime.log'),
      pidFile: path.join(dir, 'pid'),
      signals: [],
    });
  const e = await run(failing.fake, failing.dir).then(
    () => undefined,
    (x: { code?: string; message?: string }) => x,
  );
  assert.is(e?.code, 'ERR_RUNTIME_OP');
  assert.match(
    e?.message ?? '',
    /runc could not start the container: sethostname: invalid argument/,
  );
  const own = await fakeRuntime('exit 1');
  assert.equal(await run(own.fake, own.dir), { exitCode: 1 });
});

test('killContainer signals the pid in the pid file, not the runtime', async () => {
  // the fake runtime starts a "container" that ignores SIGTERM and records its pid
  const { dir, fake } = await fakeRuntime(
    `[ "${'$'}7" = run ] || exit 0; sh -c 'trap "" TERM; while :; do sleep 0.05; done' & echo $! > "${'$'}9"; wait $!; exit $?`,
  );
  const run = startContainerRun({
    runtime: { name: 'runc', path: fake },
    bundle: dir,
    id: 'c1',
    root: '/state',
    rootless: false,
    logFile: path.join(dir, 'runtime.log'),
    pidFile: path.join(dir, 'pid'),
    signals: [],
    stdio: 'ignore',
  });
  for (let i = 0; i < 200; i++) {
    if ((await readFile(path.join(dir, 'pid'), 'utf8').catch(() => '')).trim()) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(await run.killContainer('SIGKILL'));
  assert.equal(await run.exited, { exitCode: 137 });
  assert.not.ok(await run.killContainer('SIGKILL'));
});

test.run();
