import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireLock, withLock } from '../src/lock.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'berth-lock-'));
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: { code?: string }) => e.code ?? String(e),
  );
const HOLD = fileURLToPath(new URL('./fixtures/hold.ts', import.meta.url));

test('exclusive: a second taker that does not wait gets nothing until the first releases', async () => {
  const file = path.join(await tmp(), 'sub', 'x.lock');
  const first = await acquireLock(file);
  assert.ok(first, 'the first taker holds it (and the missing directory was made)');
  assert.is(await acquireLock(file, { wait: false }), undefined);
  await first?.release();
  await first?.release(); // idempotent
  const again = await acquireLock(file, { wait: false });
  assert.ok(again, 'free after release');
  await again?.release();
});

test('a waiting taker gets the lock when the holder releases it', async () => {
  const file = path.join(await tmp(), 'x.lock');
  const first = await acquireLock(file);
  const order: string[] = [];
  const second = acquireLock(file).then((l) => {
    order.push('second');
    return l;
  });
  await new Promise((r) => setTimeout(r, 150));
  order.push('release');
  await first?.release();
  await (await second)?.release();
  assert.equal(order, ['release', 'second']);
});

test('withLock runs one holder at a time and frees the lock when fn throws', async () => {
  const file = path.join(await tmp(), 'x.lock');
  let inside = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 8 }, () =>
      withLock(file, async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 10));
        inside--;
      }),
    ),
  );
  assert.is(most, 1);
  assert.is(
    await code(withLock(file, async () => Promise.reject(new Error('boom')))),
    'Error: boom',
  );
  const after = await acquireLock(file, { wait: false });
  assert.ok(after, 'released after the throw');
  await after?.release();
});

test('a lock dies with its process, even on SIGKILL', async () => {
  const file = path.join(await tmp(), 'x.lock');
  const child = spawn(process.execPath, ['--import=tsx', HOLD, file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const said = await new Promise<string>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())),
  );
  assert.is(said, 'held');
  assert.is(await acquireLock(file, { wait: false }), undefined, 'held by the child');
  child.kill('SIGKILL');
  const lock = await acquireLock(file, { timeoutMs: 5000 });
  assert.ok(lock, 'free once the holder died');
  await lock?.release();
});

test('timeoutMs gives up with ERR_LOCK_TIMEOUT naming the file', async () => {
  const file = path.join(await tmp(), 'x.lock');
  const first = await acquireLock(file);
  const err = await acquireLock(file, { timeoutMs: 100 }).catch((e: Error & { code: string }) => e);
  assert.is((err as { code?: string }).code, 'ERR_LOCK_TIMEOUT');
  assert.match((err as Error).message, file);
  await first?.release();
});

test('an AbortSignal stops the wait with its reason', async () => {
  const file = path.join(await tmp(), 'x.lock');
  const first = await acquireLock(file);
  const ac = new AbortController();
  const waiting = acquireLock(file, { signal: ac.signal }).catch((e: unknown) => e);
  setTimeout(() => ac.abort(new Error('stop')), 50);
  assert.is(String(await waiting), 'Error: stop');
  await first?.release();
});

test('a directory can be locked as it is', async () => {
  const dir = await tmp();
  const lock = await acquireLock(dir);
  assert.ok(lock);
  assert.is(await acquireLock(dir, { wait: false }), undefined);
  await lock?.release();
});

test('errors: no flock program, a path that cannot be a file, unknown options', async () => {
  const dir = await tmp();
  assert.is(
    await code(acquireLock(path.join(dir, 'x'), { flock: '/no/such/flock' })),
    'ERR_LOCK_NO_FLOCK',
  );
  await writeFile(path.join(dir, 'file'), '');
  assert.is(await code(acquireLock(path.join(dir, 'file', 'x.lock'))), 'ERR_LOCK_FAILED');
  await mkdir(path.join(dir, 'd'));
  const bad = await acquireLock(path.join(dir, 'd'), { wiat: true } as never).catch(
    (e: Error) => e,
  );
  assert.is((bad as { code?: string }).code, 'ERR_INVALID_OPTIONS');
  assert.match((bad as Error).message, 'wiat');
});

test.run();
