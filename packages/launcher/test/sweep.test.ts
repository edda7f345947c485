import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { acquireLock } from '@berth-oci/lock';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeOwnedBundle, releaseBundle, sweepBundles, sweepRuntimeStates } from '../src/sweep.js';

let root = '';
test.before.each(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'berth-sweep-'));
});
test.after.each(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A bundle directory with a file in it (new: a sweep passes `now` to make it old). */
async function bundle(name: string): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(path.join(dir, 'etc'), { recursive: true });
  await writeFile(path.join(dir, 'config.json'), '{}');
  return dir;
}
const later = (ms: number) => Date.now() + ms;

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

test('a bundle no live process locks is swept, a locked one is left alone', async () => {
  const dead = await bundle('b-dead');
  const live = await bundle('b-live');
  const lock = await acquireLock(live, { wait: false });
  assert.ok(lock);
  try {
    const removed = await sweepBundles(root, { now: later(60_000) });
    assert.equal(removed, [dead]);
    assert.not.ok(await exists(dead));
    assert.ok(await exists(path.join(live, 'config.json')));
  } finally {
    await lock?.release();
  }
});

test('a bundle whose owner was killed with SIGKILL is swept', async () => {
  const dir = await bundle('b-killed');
  // another process holds the lock, as a launcher does, and dies by SIGKILL
  const owner = spawn('flock', ['--no-fork', '--exclusive', dir, 'sleep', '60'], {
    stdio: 'ignore',
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await sweepBundles(root, { minAgeMs: 0 }), [], 'locked while its owner lives');
  assert.ok(await exists(dir));
  owner.kill('SIGKILL');
  await new Promise((r) => owner.once('exit', r));
  assert.equal(await sweepBundles(root, { minAgeMs: 0 }), [dir]);
});

test('recent bundles and other names are not examined', async () => {
  const young = await bundle('b-young');
  const other = await bundle('keep-me');
  assert.equal(await sweepBundles(root), []);
  assert.equal(await sweepBundles(root, { now: later(60_000) }), [young]);
  assert.ok(await exists(other));
});

test('a .new- directory is swept only once it is older than the grace period', async () => {
  const dir = await bundle('.new-x');
  assert.equal(await sweepBundles(root, { now: later(10_000) }), []);
  assert.ok(await exists(dir));
  assert.equal(await sweepBundles(root, { now: later(120_000) }), [dir]);
});

test('one sweep examines at most `max` bundles', async () => {
  for (let i = 0; i < 12; i++) await bundle(`b-${i}`);
  const removed = await sweepBundles(root, { max: 5, now: later(60_000) });
  assert.is(removed.length, 5);
  assert.is((await readdir(root)).length, 7);
});

test('a missing bundles directory sweeps nothing and does not throw', async () => {
  assert.equal(await sweepBundles(path.join(root, 'nope')), []);
});

test('makeOwnedBundle: a locked b- bundle that a sweep leaves alone until it is released', async () => {
  const stale = await bundle('b-stale');
  const mine = await makeOwnedBundle(root, { minAgeMs: 0 });
  assert.match(path.basename(mine), /^b-[0-9a-f]{16}$/);
  // another launch's sweep leaves it alone: it is locked
  assert.not.ok((await sweepBundles(root, { minAgeMs: 0 })).includes(mine));
  assert.ok(await exists(mine));
  await rm(mine, { recursive: true });
  await releaseBundle(mine); // waits for the sweep the new bundle started
  await releaseBundle(mine);
  assert.not.ok(await exists(stale), 'the new bundle started a sweep');
  assert.equal(await readdir(root), []);
});

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return child.pid as number;
}

/** A runtime state directory as crun (`status`) or runc (`state.json`) writes it. */
async function state(
  id: string,
  runtime: 'crun' | 'runc',
  facts: { pid: number; bundle: string },
): Promise<string> {
  const dir = path.join(root, id);
  await mkdir(dir);
  if (runtime === 'crun') {
    await writeFile(
      path.join(dir, 'status'),
      JSON.stringify({ pid: facts.pid, bundle: facts.bundle }),
    );
    await writeFile(path.join(dir, 'config.json'), '{}');
  } else {
    const config = { labels: [`bundle=${facts.bundle}`] };
    await writeFile(
      path.join(dir, 'state.json'),
      JSON.stringify({ init_process_pid: facts.pid, config }),
    );
  }
  return dir;
}

test('runtime state of a launch killed with its runtime is swept (crun and runc forms)', async () => {
  const gone = path.join(root, 'bundles', 'b-gone');
  const pid = await deadPid();
  const a = await state('berth-00000000000000aa', 'crun', { pid, bundle: gone });
  const b = await state('berth-00000000000000bb', 'runc', { pid, bundle: gone });
  assert.equal(await sweepRuntimeStates(root), [], 'too young');
  const removed = await sweepRuntimeStates(root, { now: later(60_000) });
  assert.equal(removed.sort(), [a, b]);
  assert.equal(await readdir(root), []);
});

test('runtime state is kept while its bundle exists, its process lives, or it is not a launch', async () => {
  const gone = path.join(root, 'no-such-bundle');
  const live = await bundle('b-live');
  const pid = await deadPid();
  const withBundle = await state('berth-0000000000000001', 'crun', { pid, bundle: live });
  const running = await state('berth-0000000000000002', 'crun', { pid: process.pid, bundle: gone });
  const named = await state('my-container', 'crun', { pid, bundle: gone });
  const odd = path.join(root, 'berth-0000000000000003');
  await mkdir(odd);
  await writeFile(path.join(odd, 'status'), 'not json');
  assert.equal(await sweepRuntimeStates(root, { now: later(60_000) }), []);
  for (const dir of [withBundle, running, named, odd]) assert.ok(await exists(dir), dir);
});

test('a missing state root sweeps nothing and does not throw', async () => {
  assert.equal(await sweepRuntimeStates(path.join(root, 'nope')), []);
});

test.run();
