/**
 * Who owns a private bundle, and the sweep of bundles nobody owns any more.
 *
 * A launch's bundle (`<state root>/bundles/b-XXXX`) is removed when the launch ends; a launcher
 * killed by SIGKILL cannot do that. So every bundle is locked (`@berth-oci/lock`: a flock the
 * kernel drops when its holder dies, however it dies) for the whole life of its launch, and a
 * later launch removes the bundles whose lock it can take.
 *
 * A bundle must be locked from the moment it has its `b-` name, or a sweep could take a new
 * bundle for a stale one: it is made as `.new-XXXX`, locked, then renamed to `b-XXXX` (a lock
 * belongs to the directory, not to its name). A `.new-` directory is only left when its maker
 * died in those few milliseconds; it is swept once it is old (GRACE_MS) and unlocked.
 *
 * The sweep is best effort and bounded: it never throws, looks at a few bundles per launch
 * (MAX_PER_SWEEP, chosen at random so that live ones cannot hide stale ones for ever), skips
 * bundles changed in the last seconds (almost surely live: no lock is tried on them), and runs
 * while the container runs, not before it.
 *
 * A launcher killed with its runtime (Slurm's SIGKILL of a job step kills every process at
 * once) also leaves the runtime's state of its container (`<state root>/berth-XXXX`, named by
 * the launch): the runtime removes it only when it sees its container exit. After the bundles,
 * a sweep removes the launch containers whose bundle is gone and whose init process is dead:
 * `runtime delete --force` (which also removes a cgroup the runtime made), then the directory
 * itself if the runtime could not. A container whose process still runs is never touched.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { debuglog } from 'node:util';
import { isBerthError } from '@berth-oci/errors';
import { acquireLock, type Lock } from '@berth-oci/lock';
import { globalArgs, isAlive, type RuntimeName, which } from '@berth-oci/runtime-ops';
import { execa } from 'execa';

const debug = debuglog('berth:launcher');

/** A `.new-` directory older than this, and unlocked, was left by a maker that died. */
export const GRACE_MS = 60_000;
/** A bundle changed more recently than this is not examined (its launch is almost surely live). */
export const MIN_AGE_MS = 5_000;
/** At most this many bundles are examined by one sweep. */
export const MAX_PER_SWEEP = 8;
/** At most this many entries are looked at (stat) by one sweep. */
const MAX_STATS = 64;

/** The locks of this process's bundles, and the sweep each bundle's launch started. */
const owned = new Map<string, { lock: Lock | undefined; sweep: Promise<unknown> }>();

const isNoFlock = (e: unknown) => isBerthError(e) && e.code === 'ERR_LOCK_NO_FLOCK';

/**
 * Makes a new bundle directory `<bundles>/b-XXXX`, locked by this process until
 * `releaseBundle()` (or until this process dies), and starts a sweep of `bundles` in the
 * background (`releaseBundle()` waits for it). `bundles` must exist. Without a `flock` program
 * the bundle is not locked and nothing is swept.
 */
export async function makeOwnedBundle(
  bundles: string,
  options: SweepOptions = {},
): Promise<string> {
  const name = randomBytes(8).toString('hex');
  const fresh = path.join(bundles, `.new-${name}`);
  const bundle = path.join(bundles, `b-${name}`);
  await mkdir(fresh, { mode: 0o700 });
  let lock: Lock | undefined;
  try {
    lock = await acquireLock(fresh, { wait: false });
    if (lock === undefined) throw new Error(`"${fresh}" was locked by another process`);
  } catch (e) {
    if (!isNoFlock(e)) {
      await rm(fresh, { recursive: true, force: true });
      throw e;
    }
  }
  try {
    await rename(fresh, bundle);
  } catch (e) {
    await lock?.release();
    throw e;
  }
  const sweep = lock
    ? sweepBundles(bundles, { ...options, skip: bundle }).then(() =>
        sweepRuntimeStates(path.dirname(bundles), options),
      )
    : Promise.resolve();
  owned.set(bundle, { lock, sweep });
  return bundle;
}

/**
 * Frees the lock of a bundle made by `makeOwnedBundle()`, after the sweep it started has
 * ended. Call it once the bundle is removed. Harmless for any other path, or twice.
 */
export async function releaseBundle(bundle: string): Promise<void> {
  const entry = owned.get(bundle);
  if (!entry) return;
  owned.delete(bundle);
  await entry.sweep.catch(() => {});
  await entry.lock?.release();
}

export interface SweepOptions {
  /** The time to compare ages with (ms since the epoch; default now). */
  now?: number;
  /** Skip bundles changed more recently than this (default MIN_AGE_MS). */
  minAgeMs?: number;
  /** Remove a `.new-` directory only when it is older than this (default GRACE_MS). */
  graceMs?: number;
  /** Examine at most this many (default MAX_PER_SWEEP). */
  max?: number;
  /** A bundle never to examine (the caller's own). */
  skip?: string;
}

/**
 * Removes from `bundles` the bundle directories no live process owns: each `b-*` entry whose
 * lock it can take (the owner died), and each `.new-*` entry older than `graceMs` whose lock it
 * can take. A bundle whose lock is held is left alone. Returns the paths removed; never throws
 * (failures are traced with NODE_DEBUG=berth:launcher).
 */
export async function sweepBundles(bundles: string, options: SweepOptions = {}): Promise<string[]> {
  const now = options.now ?? Date.now();
  const minAge = options.minAgeMs ?? MIN_AGE_MS;
  const grace = options.graceMs ?? GRACE_MS;
  const max = options.max ?? MAX_PER_SWEEP;
  const names = await entriesOf(bundles);
  const candidates: string[] = [];
  let looked = 0;
  for (const name of shuffle(names)) {
    if (candidates.length >= max || looked >= MAX_STATS) break;
    const isNew = name.startsWith('.new-');
    if (!isNew && !name.startsWith('b-')) continue;
    const dir = path.join(bundles, name);
    if (dir === options.skip) continue;
    looked++;
    const age = await dirAge(dir, now);
    if (age === undefined || age < (isNew ? grace : minAge)) continue;
    candidates.push(dir);
  }
  const removed: string[] = [];
  await Promise.all(
    candidates.map(async (dir) => {
      if (await removeIfUnowned(dir)) removed.push(dir);
    }),
  );
  return removed;
}

/** Removes `dir` if its lock is free (holding the lock meanwhile); true when removed. */
async function removeIfUnowned(dir: string): Promise<boolean> {
  let lock: Lock | undefined;
  try {
    lock = await acquireLock(dir, { wait: false });
  } catch (e) {
    debug('sweep: cannot lock %s: %s', dir, (e as Error).message);
    return false;
  }
  if (lock === undefined) return false; // its launch is alive
  try {
    // A bundle removed by its owner between our readdir and the lock became a plain file that
    // flock created: remove that too (we hold its lock, nobody else uses it).
    await rm(dir, { recursive: true, force: true });
    debug('sweep: removed %s, which no live launch owned', dir);
    return true;
  } catch (e) {
    debug('sweep: cannot remove %s: %s', dir, (e as Error).message);
    return false;
  } finally {
    await lock.release();
  }
}

/** The name `launch()` gives its containers (launch.ts): only those are swept. */
const LAUNCH_ID = /^berth-[0-9a-f]{16}$/;

/** What a runtime's state of one container says: its init pid and its bundle. */
interface StateFacts {
  runtime: RuntimeName;
  pid: number | undefined;
  bundle: string | undefined;
}

/** Reads crun's `status` or runc's `state.json` in a container's state directory. */
async function readState(dir: string): Promise<StateFacts | undefined> {
  const json = async (file: string) => {
    try {
      return JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const num = (x: unknown) =>
    Number.isInteger(x) && (x as number) > 0 ? (x as number) : undefined;
  const crun = await json('status');
  if (crun) {
    const bundle = typeof crun.bundle === 'string' ? crun.bundle : undefined;
    return { runtime: 'crun', pid: num(crun.pid), bundle };
  }
  const runc = await json('state.json');
  if (runc) {
    const labels = (runc.config as { labels?: unknown } | undefined)?.labels;
    const label = Array.isArray(labels)
      ? labels.find((l): l is string => typeof l === 'string' && l.startsWith('bundle='))
      : undefined;
    return { runtime: 'runc', pid: num(runc.init_process_pid), bundle: label?.slice(7) };
  }
  return undefined;
}

export interface StateSweepOptions {
  /** The time to compare ages with (ms since the epoch; default now). */
  now?: number;
  /** Skip states changed more recently than this (default MIN_AGE_MS). */
  minAgeMs?: number;
  /** Examine at most this many (default MAX_PER_SWEEP). */
  max?: number;
  /** Where to look for crun and runc (default process.env). */
  env?: Record<string, string | undefined>;
}

/**
 * Removes from the runtime state root `root` the state of launch containers (`berth-` and 16
 * hex digits) whose bundle no longer exists and whose init process is dead: what a launcher
 * killed together with its runtime leaves. Returns the state directories removed; never
 * throws.
 */
export async function sweepRuntimeStates(
  root: string,
  options: StateSweepOptions = {},
): Promise<string[]> {
  const now = options.now ?? Date.now();
  const minAge = options.minAgeMs ?? MIN_AGE_MS;
  const max = options.max ?? MAX_PER_SWEEP;
  const names = (await entriesOf(root)).filter((n) => LAUNCH_ID.test(n));
  const removed: string[] = [];
  let looked = 0;
  for (const id of shuffle(names)) {
    if (removed.length >= max || looked >= MAX_STATS) break;
    looked++;
    const dir = path.join(root, id);
    const age = await dirAge(dir, now);
    if (age === undefined || age < minAge) continue;
    const facts = await readState(dir);
    // unreadable: being written, or not a runtime's; a live launch's bundle exists
    if (!facts?.bundle || (await lstat(facts.bundle).catch(() => undefined))) continue;
    if (facts.pid !== undefined && isAlive(facts.pid)) continue;
    const file = await which(facts.runtime, options.env ?? process.env);
    if (file) {
      const rootless = process.getuid?.() !== 0;
      const args = globalArgs({ name: facts.runtime, path: file }, { root, rootless });
      const r = await execa(file, [...args, 'delete', '--force', id], {
        reject: false,
        stdio: 'ignore',
        timeout: 10_000,
      });
      debug('sweep: %s delete --force %s: exit %s', facts.runtime, id, r.exitCode);
    }
    try {
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
      debug('sweep: removed the state of %s, whose launch died with its runtime', id);
    } catch (e) {
      debug('sweep: cannot remove %s: %s', dir, (e as Error).message);
    }
  }
  return removed;
}

/** How long ago `dir` last changed (ms); undefined when it is not a directory (or gone). */
async function dirAge(dir: string, now: number): Promise<number | undefined> {
  const st = await lstat(dir).catch(() => undefined);
  return st?.isDirectory() ? now - Math.max(st.mtimeMs, st.ctimeMs) : undefined;
}

/** The names in `dir`; none when it cannot be read (traced: a sweep never throws). */
async function entriesOf(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    debug('sweep: cannot read %s: %s', dir, (e as Error).message);
    return [];
  }
}

function shuffle<T>(items: T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}
