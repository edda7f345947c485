import { execFile } from 'node:child_process';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isBerthError } from '@berth-oci/errors';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isAlive, lockBundle, readLock, unlockBundle, withProcessLock } from '../src/lock.js';

const run = promisify(execFile);
const TAKE = fileURLToPath(new URL('./fixtures/take-bundle.ts', import.meta.url));
const record = (bundle: string) => path.join(bundle, '.berth-oci.lock');

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(isBerthError(e), String(e));
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'ok';
}

test('lockBundle: one container per bundle, stale records taken over, unlock only by the holder', async () => {
  const bundle = await mkdtemp(path.join(os.tmpdir(), 'bundle-'));
  await lockBundle(bundle, 'a');
  assert.is((await stat(record(bundle))).mode & 0o777, 0o600);
  assert.match(
    await code(lockBundle(bundle, 'b')),
    new RegExp(`^ERR_RUNTIME_BUNDLE_LOCKED: bundle "${bundle}" is locked by container "a"`),
  );
  await unlockBundle(bundle, 'b');
  assert.is((await readLock(record(bundle)))?.id, 'a', 'b cannot unlock');
  await lockBundle(bundle, 'c', (owner) => owner.id === 'a');
  assert.is((await readLock(record(bundle)))?.id, 'c');
  await unlockBundle(bundle, 'c');
  assert.is(await readLock(record(bundle)), undefined);
  await writeFile(record(bundle), 'not json');
  assert.match(await code(lockBundle(bundle, 'd')), /^ERR_RUNTIME_BUNDLE_LOCKED: .*is locked$/);
});

test('lockBundle: of many processes racing for one stale record, exactly one wins', async () => {
  const bundle = await mkdtemp(path.join(os.tmpdir(), 'bundle-'));
  await writeFile(record(bundle), JSON.stringify({ id: 'dead', uid: process.getuid?.() }));
  const takers = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const at = String(Date.now() + 4000); // all start together, once every process has loaded
  const outcomes = await Promise.all(
    takers.map(async (id) => {
      const { stdout } = await run(process.execPath, ['--import=tsx', TAKE, bundle, id, at]);
      return { id, outcome: stdout.trim() };
    }),
  );
  const winners = outcomes.filter((o) => o.outcome === 'won');
  assert.is(winners.length, 1, JSON.stringify(outcomes));
  for (const o of outcomes) {
    if (o.outcome !== 'won') assert.is(o.outcome, 'ERR_RUNTIME_BUNDLE_LOCKED');
  }
  assert.is((await readLock(record(bundle)))?.id, winners[0]?.id, 'the record names the winner');
});

test('withProcessLock: runs one at a time; a bad lock path is ERR_RUNTIME_LOCK', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lock-'));
  let inside = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 5 }, () =>
      withProcessLock(path.join(dir, 'l'), async () => {
        most = Math.max(most, ++inside);
        await new Promise((r) => setTimeout(r, 10));
        inside--;
      }),
    ),
  );
  assert.is(most, 1);
  await writeFile(path.join(dir, 'f'), '');
  assert.match(
    await code(withProcessLock(path.join(dir, 'f', 'l'), async () => 1)),
    /^ERR_RUNTIME_LOCK: cannot lock/,
  );
});

test('isAlive', () => {
  assert.ok(isAlive(process.pid));
  assert.not.ok(isAlive(2 ** 22 + 12345));
  assert.not.ok(isAlive(0));
});

test.run();
