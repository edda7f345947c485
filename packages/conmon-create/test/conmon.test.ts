import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conmonArgs, parseSyncMessage } from '../src/index.js';

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
  assert.ok(s.includes('--bundle /b --full-attach'));
  assert.ok(s.includes('--log-path k8s-file:/s/container.log'));
  assert.ok(s.includes('--exit-dir /s/exits'));
  assert.is(args.at(-1), '--terminal');
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

test.run();
