import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isBerthError } from '@berth-oci/errors';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conmonArgs, conmonFiles } from '../src/args.js';
import {
  createContainer,
  findConmon,
  logTargets,
  readExitStatus,
  waitForExit,
} from '../src/create.js';
import { k8sLogToJsonLines, parseK8sLogLine, parseRuntimeLog } from '../src/log.js';
import { parseSyncMessage } from '../src/sync.js';
import { fakeConmon } from './fixtures/fakes.js';

test('conmonArgs: full attach, runtime args, files in the state dir', () => {
  const args = conmonArgs({
    id: 'c1',
    uuid: 'u-1',
    runtimePath: '/usr/bin/runc',
    runtimeArgs: ['--root', '/run/berth'],
    bundle: '/b',
    stateDir: '/s',
    stdio: 'terminal',
  });
  const s = args.join(' ');
  assert.ok(s.startsWith('--api-version 1 --cid c1 --cuuid u-1 --name c1 --runtime /usr/bin/runc'));
  assert.ok(s.includes('--runtime-arg --root --runtime-arg /run/berth'));
  assert.ok(
    s.includes('--runtime-arg --log --runtime-arg /s/runtime.log --runtime-arg --log-format=json'),
  );
  assert.ok(s.includes('--bundle /b --full-attach'));
  assert.ok(s.includes('--container-pidfile /s/container.pid --conmon-pidfile /s/conmon.pid'));
  assert.ok(s.includes('--log-path k8s-file:/s/container.log'));
  assert.ok(s.includes('--exit-dir /s/exits'));
  assert.is(args.at(-1), '--terminal');
  assert.not.ok(s.includes('--exit-command'));
});

test('conmonArgs: -i for stdin, the exit command and its arguments', () => {
  const args = conmonArgs({
    id: 'c',
    uuid: 'u',
    runtimePath: '/usr/bin/crun',
    bundle: '/b',
    stateDir: '/s',
    stdio: 'stdin',
    exitCommand: ['/usr/bin/node', '/x/log-convert.js', '/s/container.log', '/l.json'],
  });
  const s = args.join(' ');
  assert.ok(
    s.includes(
      '--exit-command /usr/bin/node --exit-command-arg /x/log-convert.js --exit-command-arg /s/container.log --exit-command-arg /l.json',
    ),
  );
  assert.is(args.at(-1), '--stdin');
});

test('conmonArgs refuses a relative runtime path (conmon does no PATH lookup)', () => {
  assert.throws(
    () => conmonArgs({ id: 'c', uuid: 'u', runtimePath: 'runc', bundle: '/b', stateDir: '/s' }),
    /runtime|Invalid/i,
  );
});

test('parseSyncMessage: pid, failure with message, legacy pid key', () => {
  assert.equal(parseSyncMessage('{"data": 15371}'), { ok: true, pid: 15371 });
  assert.equal(parseSyncMessage('{"pid": 12}'), { ok: true, pid: 12 });
  assert.equal(parseSyncMessage('{"data": -1, "message": "runc create failed: boom\\n"}'), {
    ok: false,
    message: 'runc create failed: boom',
  });
  assert.equal(parseSyncMessage('{"data": -1}').ok, false);
  assert.throws(() => parseSyncMessage('nope'), /unreadable/);
  assert.throws(() => parseSyncMessage('{"x":1}'), /without data/);
});

test('parseRuntimeLog: the last error of runc and crun JSON logs', () => {
  assert.is(
    parseRuntimeLog(
      '{"level":"warning","msg":"w","time":"t"}\n{"level":"error","msg":"runc create failed: x\\n","time":"t"}\n',
    ),
    'runc create failed: x',
  );
  assert.is(
    parseRuntimeLog('{"msg":"executable file `/x` not found","level":"error","time":"t"}'),
    'executable file `/x` not found',
  );
  assert.is(parseRuntimeLog(''), undefined);
  assert.is(parseRuntimeLog('garbage\n{"level":"info","msg":"i"}'), undefined);
});

test('k8s-file log lines to JSON lines', () => {
  assert.equal(parseK8sLogLine('2026-11-28T13:03:33.966556557+00:00 stdout F hello out'), {
    time: '2026-11-28T13:03:33.966556557+00:00',
    stream: 'stdout',
    tag: 'F',
    content: 'hello out',
  });
  assert.is(parseK8sLogLine('2026-11-28T13:03:33Z stderr F')?.content, '');
  assert.is(parseK8sLogLine('not a log line'), undefined);
  const json = k8sLogToJsonLines('t1 stdout F out\nt2 stderr F err\nt3 stdout P part\nbad\n');
  assert.equal(
    json
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
    [
      { log: 'out\n', stream: 'stdout', time: 't1' },
      { log: 'err\n', stream: 'stderr', time: 't2' },
      { log: 'part', stream: 'stdout', time: 't3' },
    ],
  );
});

test('logTargets: conmon writes k8s-file; json goes where asked', () => {
  assert.equal(logTargets({ stateDir: '/s', id: 'c' }), { k8s: '/s/container.log' });
  assert.equal(logTargets({ stateDir: '/s', id: 'c', logPath: '/l' }), { k8s: '/l' });
  assert.equal(logTargets({ stateDir: '/s', id: 'c', logPath: '/l', logFormat: 'json' }), {
    k8s: '/s/container.log',
    json: '/l',
  });
});

test('exit files: read, wait until written, give up when conmon is gone', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'exit-'));
  const files = conmonFiles(dir, 'c1');
  await mkdir(files.exitDir);
  assert.is(await readExitStatus(files.exitFile), undefined);
  setTimeout(() => void writeFile(files.exitFile, '137'), 50);
  assert.is(await waitForExit(files, { timeoutMs: 5000 }), 137);
  assert.is(await waitForExit(conmonFiles(dir, 'c2'), { conmonPid: 2 ** 22 + 4321 }), undefined);
});

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(isBerthError(e), String(e));
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'ok';
}

test('createContainer: the sync message gives the pid; pid files written', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cc-'));
  const conmon = await fakeConmon(dir, `printf 777 > "$pidfile"; printf '{"data": 4242}\\n' >&3`);
  const pidFile = path.join(dir, 'my.pid');
  const c = await createContainer({
    id: 'c1',
    bundle: dir,
    stateDir: path.join(dir, 'state'),
    runtimePath: '/bin/true',
    conmon,
    terminal: true,
    pidFile,
  });
  assert.is(c.pid, 4242);
  assert.is(c.conmonPid, 777);
  assert.is(await readFile(pidFile, 'utf8'), '4242');
  c.release();
});

test('createContainer: failures carry the runtime message, a timeout, a conmon that failed', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cc-'));
  const base = {
    id: 'c2',
    bundle: dir,
    stateDir: path.join(dir, 'state'),
    runtimePath: '/bin/true',
    terminal: false,
  };
  let conmon = await fakeConmon(
    dir,
    `printf '{"data": -1, "message": "boom: no such binary"}\\n' >&3`,
  );
  assert.match(
    await failure(createContainer({ ...base, conmon })),
    /^ERR_CONMON_CREATE: cannot create container "c2": boom: no such binary/,
  );
  conmon = await fakeConmon(dir, 'exec 3>&-');
  assert.match(
    await failure(createContainer({ ...base, conmon })),
    /^ERR_CONMON_CREATE: .*without a report/,
  );
  conmon = await fakeConmon(dir, 'sleep 5 &');
  assert.match(
    await failure(createContainer({ ...base, conmon, timeoutMs: 200 })),
    /^ERR_CONMON_TIMEOUT: creating container "c2" timed out/,
  );
  conmon = await fakeConmon(dir, 'echo "[conmon:e]: Runtime path x is not valid" >&2; exit 1');
  assert.match(
    await failure(createContainer({ ...base, conmon })),
    /^ERR_CONMON_START: conmon failed to start container "c2": Runtime path x is not valid/,
  );
  assert.match(
    await failure(createContainer({ ...base, conmon: '/nonexistent/conmon' })),
    /^ERR_CONMON_NOT_FOUND: conmon "\/nonexistent\/conmon" does not exist/,
  );
  assert.match(await failure(findConmon('no-such-conmon-xyz')), /^ERR_CONMON_NOT_FOUND/);
});

test.run();
