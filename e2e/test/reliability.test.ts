/**
 * Reliability, proven and kept (issue 9): a soak of warm launches and `oci` cycles that leaves
 * nothing behind, kill -9 of cold launches and pulls that the next run recovers from with a
 * consistent cache, parallel cold launches sharing one download and one unpack, registry faults
 * through a proxy (retried where the protocol allows, never cached, clearly reported), and a
 * full disk during an unpack. Bounded: a few minutes in all.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type FaultProxy, startFaultProxy } from '../src/fault-proxy.js';
import {
  berth,
  ensureUser,
  freshCache as freshCacheIn,
  type Profile,
  pidsMatching,
  type Result,
  type RunOptions,
  type RuntimeName,
  requireRoot,
  sleep,
  startBerth,
  type User,
  waitFor,
  workDir,
} from '../src/harness.js';
import { buildTestImage, type TestImage } from '../src/images.js';
import { addManyFilesImage, type Registry, skopeoCopy, startRegistry } from '../src/registry.js';

requireRoot();

const MOTD = 'layer 3 is uncompressed\n';
const MANY_FILES = 3000;
const UNPACKED = /^berth: unpacked layer /gm;
const DOWNLOADED = /^berth: downloaded layer /gm;
const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;

let user: User;
let work: string;
let image: TestImage;
let registry: Registry;
let proxy: FaultProxy;
/** The digests of the test image's layers, as pushed. */
let layers: string[] = [];

const freshCache = (profile: Profile) => freshCacheIn(work, profile, user);

const opts = (
  profile: Profile,
  cacheDir: string,
  runtime: RuntimeName = 'crun',
  extra: Partial<RunOptions> = {},
): RunOptions => ({ profile, runtime, user, cacheDir, timeout: 120_000, ...extra });

const remote = (name: string) => `docker://${proxy.host}/berth/${name}`;

/** The finished rootfs trees of a cache, and its temporary ones. */
async function trees(cacheDir: string): Promise<{ done: string[]; tmp: string[] }> {
  const names = await readdir(path.join(cacheDir, 'rootfs')).catch(() => [] as string[]);
  return {
    done: names.filter((n) => !n.includes('.tmp-') && !n.endsWith('.json')),
    tmp: names.filter((n) => n.includes('.tmp-') && !n.includes('.json')),
  };
}

/** Every file of a tree: path, type, mode, owner, size, link target (sorted). */
function listing(dir: string): string {
  return execFileSync('find', [dir, '-mindepth', '1', '-printf', '%P %y %m %U:%G %s %l\\n'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
    .split('\n')
    .filter(Boolean)
    .sort()
    .join('\n');
}

/** Checks that a cache holds only complete, verified things: blobs match their names, no temporaries. */
async function assertCacheConsistent(cacheDir: string, what: string): Promise<void> {
  const blobDir = path.join(cacheDir, 'blobs', 'sha256');
  for (const name of await readdir(blobDir).catch(() => [] as string[])) {
    assert.match(name, /^[0-9a-f]{64}$/, `${what}: a temporary blob ${name} was left`);
    const hex = createHash('sha256')
      .update(await readFile(path.join(blobDir, name)))
      .digest('hex');
    assert.is(hex, name, `${what}: blob ${name} holds other bytes`);
  }
  const t = await trees(cacheDir);
  assert.equal(t.tmp, [], `${what}: temporary trees were left`);
}

/** What berth's failures look like: exit 255 and a `berth:` message, not an internal error. */
function assertBerthFailure(r: Result, re: RegExp, what: string): void {
  assert.is(r.code, 255, `${what}: ${r.stderr}`);
  assert.match(r.stderr, /^berth: /m, what);
  assert.match(r.stderr, re, what);
  assert.not.match(r.stderr, /internal error|this is a bug/i, what);
}

test.before(async () => {
  user = ensureUser();
  work = await workDir('berth-e2e-reliability-');
  const layout = path.join(work, 'layout');
  image = await buildTestImage(layout, 'test');
  await addManyFilesImage(layout, 'test', 'many', MANY_FILES);
  registry = await startRegistry(path.join(work, 'registry'));
  await skopeoCopy(`oci:${layout}:test`, `docker://${registry.host}/berth/test:v1`);
  await skopeoCopy(`oci:${layout}:many`, `docker://${registry.host}/berth/many:v1`);
  proxy = await startFaultProxy(registry.host);
  const res = await fetch(`http://${registry.host}/v2/berth/test/manifests/v1`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  const manifest = (await res.json()) as { layers: Array<{ digest: string }> };
  layers = manifest.layers.map((l) => l.digest);
  console.log(`reliability e2e: registry ${registry.host} behind proxy ${proxy.host}`);
});

test.after(async () => {
  await proxy?.stop();
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Runs `jobs` with at most `n` at a time. */
async function pool<T>(n: number, jobs: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await (jobs[i] as () => Promise<T>)();
      }
    }),
  );
  return out;
}

// --- soak ---------------------------------------------------------------------------------

/** What the unprivileged user has on the host: state root, /tmp, mounts, processes. */
function userFootprint(): Record<string, string> {
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' });
    } catch (e) {
      return String((e as { stdout?: string }).stdout ?? '');
    }
  };
  const stateRoot = path.join('/tmp', `berth-${user.uid}`);
  return {
    stateRoot: run('find', [stateRoot, '-mindepth', '1', '-not', '-name', 'holder.json']),
    tmp: run('find', ['/tmp', '-maxdepth', '1', '-user', String(user.uid)]),
    tmpSub: run('find', ['/tmp', '-maxdepth', '1', '-uid', '+299999']),
    mounts: readMounts(),
    processes: run('ps', ['-u', String(user.uid), '-o', 'args=']),
  };
}
const readMounts = () =>
  execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /berth/.test(l))
    .map((l) => l.split(' ')[4])
    .sort()
    .join('\n');

test('soak: 200 warm execs as the user (crun, runc, flag sets) and 50 oci cycles leave nothing behind', async () => {
  const cache = await freshCache('user');
  for (const runtime of ['crun', 'runc'] as const) {
    const warm = await berth(['exec', image.ref, 'true'], opts('user', cache, runtime));
    assert.is(warm.code, 0, warm.stderr);
  }
  const before = userFootprint();
  const flagSets = [
    [],
    ['--cleanenv'],
    ['--no-home', '--pwd', '/'],
    ['--env', 'SOAK=1'],
    ['--hostname', 'soak'],
    ['--no-compat'],
    ['--no-privs'],
  ];
  const started = Date.now();
  const results = await pool(
    4,
    Array.from({ length: 200 }, (_, i) => async () => {
      const runtime = (i % 2 ? 'runc' : 'crun') as RuntimeName;
      const flags = flagSets[i % flagSets.length] as string[];
      const r = await berth(
        ['exec', ...flags, image.ref, 'cat', '/etc/motd'],
        opts('user', cache, runtime),
      );
      return { i, runtime, flags, r };
    }),
  );
  for (const { i, runtime, flags, r } of results) {
    assert.is(r.code, 0, `exec ${i} (${runtime} ${flags.join(' ')}): ${r.stderr}`);
    assert.is(r.stdout, MOTD, `exec ${i}`);
  }
  const execMs = Date.now() - started;

  const bundles = path.join(work, 'soak-bundles');
  await mkdir(bundles, { mode: 0o755 });
  await chown(bundles, user.uid, user.gid);
  const oci = (args: string[], runtime: RuntimeName) =>
    berth(['oci', ...args], opts('user', cache, runtime));
  await pool(
    4,
    Array.from({ length: 50 }, (_, i) => async () => {
      const runtime = (i % 2 ? 'runc' : 'crun') as RuntimeName;
      const id = `soak-${i}`;
      const bundle = path.join(bundles, `b${i}`);
      let r = await oci(['mount', image.ref, bundle], runtime);
      assert.is(r.code, 0, `mount ${i}: ${r.stderr}`);
      const file = path.join(bundle, 'config.json');
      const config = JSON.parse(await readFile(file, 'utf8'));
      config.process.args = ['/bin/sleep', '60'];
      config.process.terminal = false;
      await writeFile(file, JSON.stringify(config));
      r = await oci(['create', '-b', bundle, id], runtime);
      assert.is(r.code, 0, `create ${i}: ${r.stderr}`);
      r = await oci(['start', id], runtime);
      assert.is(r.code, 0, `start ${i}: ${r.stderr}`);
      r = await oci(['kill', id, 'KILL'], runtime);
      assert.is(r.code, 0, `kill ${i}: ${r.stderr}`);
      await waitFor(
        async () =>
          JSON.parse((await oci(['state', id], runtime)).stdout || '{}').status === 'stopped',
        15_000,
        `container ${id} to stop`,
      );
      r = await oci(['delete', id], runtime);
      assert.is(r.code, 0, `delete ${i}: ${r.stderr}`);
      r = await oci(['umount', bundle], runtime);
      assert.is(r.code, 0, `umount ${i}: ${r.stderr}`);
    }),
  );
  // a killed container's process may wait a moment to be reaped, a lock's flock child to exit
  let after = userFootprint();
  for (let i = 0; i < 40 && JSON.stringify(after) !== JSON.stringify(before); i++) {
    await sleep(250);
    after = userFootprint();
  }
  for (const key of Object.keys(before))
    assert.is(after[key], before[key], `${key} changed by the soak`);
  assert.equal(await readdir(bundles), [], 'a bundle of the oci cycles was left');
  await assertCacheConsistent(cache, 'soak');
  console.log(
    `  ok soak: 200 execs in ${(execMs / 1000).toFixed(0)} s, 50 oci cycles in ${((Date.now() - started - execMs) / 1000).toFixed(0)} s, nothing left`,
  );
});

// --- crash consistency --------------------------------------------------------------------

test('kill -9 at random moments of cold launches and pulls: the same command then succeeds, the cache is consistent', async () => {
  const ref = `oci:${image.layout}:many`;
  const cmd = ['sh', '-c', 'cat /etc/motd; ls /many/d2 | wc -l'];
  const clean = await freshCache('user');
  let t0 = Date.now();
  const first = await berth(['exec', ref, ...cmd], opts('user', clean));
  assert.is(first.code, 0, first.stderr);
  const launchMs = Date.now() - t0;
  t0 = Date.now();
  const pulled = await berth(['pull', remote('many:v1')], opts('user', await freshCache('user')));
  assert.is(pulled.code, 0, pulled.stderr);
  const pullMs = Date.now() - t0;
  const [entry] = (await trees(clean)).done;
  const reference = listing(path.join(clean, 'rootfs', entry as string));
  const stateRoot = path.join('/tmp', `berth-${user.uid}`, 'bundles');
  const cases = [
    { what: 'cold launch', args: ['exec', ref, ...cmd], ms: launchMs },
    { what: 'pull', args: ['pull', remote('many:v1')], ms: pullMs },
  ];
  let killed = 0;
  for (const c of cases) {
    for (let i = 0; i < 10; i++) {
      const cache = await freshCache('user');
      const o = opts('user', cache);
      const child = startBerth(c.args, o);
      // a random moment of the command's life (as long as a clean run took)
      await sleep(50 + Math.floor(Math.random() * c.ms * 0.9));
      try {
        process.kill(child.pid as number, 'SIGKILL');
      } catch {
        // it had ended already
      }
      const r = await child;
      if (r.signal === 'SIGKILL') killed++;
      // the unpack worker notices its parent died and stops: none is left running
      await waitFor(
        () => pidsMatching(`unpack-worker.js`).length === 0,
        5000,
        `the unpack worker of the killed ${c.what} to stop`,
      );
      const again = await berth(c.args, o);
      assert.is(again.code, 0, `${c.what} after kill -9 #${i}: ${again.stderr}`);
      if (c.what === 'cold launch') assert.is(again.stdout, `${MOTD}1000\n`);
      const t = await trees(cache);
      assert.is(t.done.length, 1, `${c.what} #${i}: one tree`);
      assert.is(
        listing(path.join(cache, 'rootfs', t.done[0] as string)),
        reference,
        `${c.what} #${i}: the tree differs from a clean unpack`,
      );
      await assertCacheConsistent(cache, `${c.what} #${i}`);
    }
  }
  // the bundles of killed launches were swept by the later ones
  await sleep(6000);
  const sweeper = await berth(['exec', image.ref, 'true'], opts('user', clean));
  assert.is(sweeper.code, 0, sweeper.stderr);
  const left = await readdir(stateRoot).catch(() => [] as string[]);
  assert.ok(left.length <= 8, `bundles of killed launches are swept: ${left.join(' ')}`);
  console.log(
    `  ok crash consistency: ${killed}/20 killed mid-way (a clean launch ${launchMs} ms, pull ${pullMs} ms), all recovered`,
  );
});

test('kill -9 of berth exec: its bundle is swept by a later launch (issue 9 item 15)', async () => {
  const cache = await freshCache('user');
  const o = opts('user', cache);
  const bundles = path.join('/tmp', `berth-${user.uid}`, 'bundles');
  const warm = await berth(['exec', image.ref, 'true'], o);
  assert.is(warm.code, 0, warm.stderr);
  const before = new Set(await readdir(bundles).catch(() => [] as string[]));
  const child = startBerth(['exec', image.ref, 'sleep', '2'], o);
  const mine = await waitFor(
    async () => (await readdir(bundles)).find((n) => n.startsWith('b-') && !before.has(n)),
    20_000,
    'the launch bundle',
  );
  await sleep(500);
  process.kill(child.pid as number, 'SIGKILL');
  await child;
  await sleep(2500); // the container (sleep 2) ends
  assert.ok((await readdir(bundles)).includes(mine), 'the killed launch left its bundle');
  // a bundle is swept once it is a few seconds old, by a launch that examines it
  await sleep(5000);
  for (let i = 0; i < 3 && (await readdir(bundles)).includes(mine); i++) {
    const r = await berth(['exec', image.ref, 'true'], o);
    assert.is(r.code, 0, r.stderr);
  }
  assert.not.ok((await readdir(bundles)).includes(mine), `bundle ${mine} was not swept`);
  console.log('  ok a killed launch bundle is swept');
});

// --- concurrency --------------------------------------------------------------------------

test('16 parallel cold launches share one download and one unpack per layer', async () => {
  const cache = await freshCache('user');
  proxy.reset();
  const results = await Promise.all(
    Array.from({ length: 16 }, () =>
      berth(['exec', remote('test:v1'), 'cat', '/etc/motd'], opts('user', cache)),
    ),
  );
  const stderr = results.map((r) => r.stderr).join('');
  for (const r of results) {
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, MOTD);
  }
  for (const digest of layers) {
    const gets = proxy.requests.filter(
      (q) => q.method === 'GET' && q.path.endsWith(`/blobs/${digest}`),
    ).length;
    assert.is(gets, 1, `layer ${digest} fetched ${gets} times`);
  }
  assert.is(count(stderr, DOWNLOADED), layers.length, stderr);
  assert.is(count(stderr, UNPACKED), layers.length, stderr);
  const t = await trees(cache);
  assert.is(t.done.length, 1);
  await assertCacheConsistent(cache, '16 parallel launches');
  console.log(
    `  ok 16 parallel cold launches: ${proxy.requests.length} requests, one GET per layer`,
  );
});

// --- registry faults ----------------------------------------------------------------------

const blobPath = (digest: string) => new RegExp(`/blobs/${digest}$`);
const cached = async (cache: string, digest: string) =>
  (await readdir(path.join(cache, 'blobs', 'sha256')).catch(() => [] as string[])).some((n) =>
    n.startsWith(digest.slice(7)),
  );

test('registry faults: a 5xx is retried, a truncated or wrong body is never cached and is reported, a stall is announced and retried', async () => {
  const layer = layers[0] as string;
  const run = (cache: string) =>
    berth(['exec', remote('test:v1'), 'cat', '/etc/motd'], opts('root', cache));

  // 5xx on the manifest and on a layer: retried, then a success
  let cache = await freshCache('root');
  proxy.reset();
  proxy.inject(/\/manifests\//, { kind: 'status', status: 503 });
  proxy.inject(blobPath(layer), { kind: 'status', status: 500 }, { kind: 'status', status: 502 });
  let r = await run(cache);
  assert.is(r.code, 0, `after 5xx: ${r.stderr}`);
  assert.is(r.stdout, MOTD);
  assert.ok(proxy.requests.filter((q) => q.fault === 'status').length === 3, 'the faults were met');
  await assertCacheConsistent(cache, '5xx');

  // a body cut short, every time: reported, nothing cached; then a success
  for (const fault of [{ kind: 'truncate' }, { kind: 'corrupt' }] as const) {
    cache = await freshCache('root');
    proxy.reset();
    proxy.inject(blobPath(layer), ...Array.from({ length: 10 }, () => fault));
    r = await run(cache);
    assertBerthFailure(
      r,
      fault.kind === 'corrupt'
        ? /digest|sha256/i
        : /cut short|truncat|closed|ended|incomplete|bytes/i,
      fault.kind,
    );
    assert.not.ok(await cached(cache, layer), `${fault.kind}: the bad layer was cached`);
    await assertCacheConsistent(cache, fault.kind);
    assert.equal((await trees(cache)).done, [], `${fault.kind}: a tree was made`);
    const tries = proxy.requests.filter((q) => q.fault === fault.kind).length;
    proxy.reset();
    r = await run(cache);
    assert.is(r.code, 0, `${fault.kind}, then a good registry: ${r.stderr}`);
    assert.ok(await cached(cache, layer));
    await assertCacheConsistent(cache, `${fault.kind} then good`);
    console.log(`  ok ${fault.kind}: ${tries} tries, reported, not cached; then a success`);
  }

  // a body cut short once: retried within the run
  cache = await freshCache('root');
  proxy.reset();
  proxy.inject(blobPath(layer), { kind: 'truncate' }, { kind: 'status', status: 503 });
  r = await run(cache);
  assert.is(r.code, 0, `a truncated body, then a 503, are retried: ${r.stderr}`);
  await assertCacheConsistent(cache, 'truncate once');

  // a stall: announced while waiting (a third of the 60 s timeout), then retried
  cache = await freshCache('root');
  proxy.reset();
  proxy.inject(blobPath(layer), { kind: 'stall', ms: 22_000 });
  r = await run(cache);
  assert.is(r.code, 0, `after a stall: ${r.stderr}`);
  assert.match(r.stderr, /^berth: .*nothing received for/m, 'the wait is announced');
  await assertCacheConsistent(cache, 'stall');
  console.log('  ok 5xx retried, stall announced and retried');
});

// --- disk full ----------------------------------------------------------------------------

test('disk full during an unpack: a clear error, no half entry, success once space is freed', async () => {
  const dir = path.join(work, 'tmpfs-cache');
  await mkdir(dir);
  execFileSync('mount', [
    '-t',
    'tmpfs',
    '-o',
    `size=64m,nr_inodes=1000,mode=0700,uid=${user.uid},gid=${user.gid}`,
    'berth-e2e-full',
    dir,
  ]);
  try {
    const ref = `oci:${image.layout}:many`;
    const o = opts('user', dir);
    let r = await berth(['exec', ref, 'cat', '/etc/motd'], o);
    assertBerthFailure(r, /space|ENOSPC|full/i, 'a full cache');
    const t = await trees(dir);
    assert.equal(t.done, [], 'no entry for the failed unpack');
    assert.equal(t.tmp, [], 'no half entry left');
    execFileSync('mount', ['-o', 'remount,nr_inodes=100000', dir]);
    r = await berth(['exec', ref, 'sh', '-c', 'cat /etc/motd; ls /many/d2 | wc -l'], o);
    assert.is(r.code, 0, `after space is freed: ${r.stderr}`);
    assert.is(r.stdout, `${MOTD}1000\n`);
    await assertCacheConsistent(dir, 'disk full, then freed');
    console.log('  ok disk full: reported, nothing half-made; then a success');
  } finally {
    execFileSync('umount', ['-l', dir]);
  }
});

test.run();
