import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runForeground, startForeground } from '../src/run.js';

const signalListeners = () => ['SIGTERM', 'SIGINT', 'SIGHUP'].map((s) => process.listenerCount(s));

test('stdio: a file descriptor per stream, and ignore', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sf-'));
  const file = path.join(dir, 'out');
  const fd = openSync(file, 'w');
  try {
    const status = await runForeground('sh', ['-c', 'echo out; echo err >&2'], {
      stdio: ['ignore', fd, 'ignore'],
    });
    assert.equal(status, { exitCode: 0 });
  } finally {
    closeSync(fd);
  }
  assert.is(await readFile(file, 'utf8'), 'out\n');
});

test('signals: [] installs no process handler; kill() reaches the child', async () => {
  const before = signalListeners();
  const child = startForeground('sh', ['-c', "trap 'exit 42' TERM; while :; do sleep 0.05; done"], {
    signals: [],
    stdio: 'ignore',
  });
  assert.equal(signalListeners(), before);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(child.kill('SIGTERM'));
  assert.equal(await child.exited, { exitCode: 42 });
});

test('an aborted signal sends SIGTERM, then SIGKILL after the grace period', async () => {
  const abort = new AbortController();
  const child = startForeground('sh', ['-c', "trap '' TERM; while :; do sleep 0.05; done"], {
    signals: [],
    stdio: 'ignore',
    signal: abort.signal,
    killGraceMs: 200,
  });
  await new Promise((r) => setTimeout(r, 200));
  abort.abort();
  assert.equal(await child.exited, { exitCode: 137, signal: 'SIGKILL' });
});

test('stdio values are checked', () => {
  assert.throws(() => startForeground('true', [], { stdio: 'pipe' as never }), /stdio/);
});

test.run();
