/**
 * Launch failures as the user meets them (issue 9, items 9, 10, 14, 19, 20), through the built
 * bin started by its shebang, as root, as the unprivileged user and with --fakeroot: what
 * berth refuses exits 255 with a `berth:` message naming the value, a runtime that cannot
 * start the container's process is berth's failure (255), and a launch stopped by `timeout`
 * leaves no container process, runtime state, bundle or mount behind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BERTH,
  berth,
  ensureUser,
  hostMountsMatching,
  PROFILES,
  type Profile,
  pidsMatching,
  RUNTIMES,
  type RunOptions,
  type RuntimeName,
  requireRoot,
  type User,
  waitFor,
  workDir,
} from '../src/harness.js';
import { buildDemoImage, type TestImage } from '../src/images.js';

requireRoot();

let user: User;
let work: string;
let image: TestImage;
/** The demo image declaring `USER nobody`. */
let userImage: TestImage;

/** The user's XDG_RUNTIME_DIR: a private state root, so no other run's traces mix with ours. */
let xdg: string;

/** Runs the bin itself (its shebang), as an installed `berth` is run, not `node dist/cli.js`. */
const opts = (
  profile: Profile,
  runtime: RuntimeName,
  extra: Partial<RunOptions> = {},
): RunOptions => ({
  profile,
  runtime,
  user,
  bin: BERTH,
  cacheDir: path.join(work, `cache-${profile === 'root' ? 'root' : 'user'}`),
  ...(profile !== 'root' && { env: { XDG_RUNTIME_DIR: xdg } }),
  ...extra,
});

/** berth's runtime state root for a profile: /run/berth for root, else $XDG_RUNTIME_DIR/berth. */
const stateRootOf = (profile: Profile) =>
  profile === 'root' ? '/run/berth' : path.join(xdg, 'berth');

interface RuntimeEntry {
  id: string;
  bundle?: string;
}

/** The containers `runtime --root ROOT list` knows. */
function listContainers(runtime: RuntimeName, root: string): RuntimeEntry[] {
  if (!existsSync(root)) return [];
  const out = execFileSync(runtime, ['--root', root, 'list', '--format', 'json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return (JSON.parse(out.trim() || 'null') as RuntimeEntry[] | null) ?? [];
}

/** The ids of every container under a profile's state root, both runtimes. */
const containerIds = (profile: Profile) =>
  new Set(RUNTIMES.flatMap((rt) => listContainers(rt, stateRootOf(profile)).map((c) => c.id)));

/**
 * What launches whose command holds `marker` left under the profile's state root: bundles,
 * runtime containers (`crun|runc --root ROOT list`) and host mounts. The user's state root is
 * private to this file, so all of it counts; root's /run/berth is shared with whatever else
 * runs as root, so there only the bundles whose config.json holds the marker count, and the
 * containers (not in `before`) whose bundle is one of those or is gone.
 */
async function leftovers(
  profile: Profile,
  marker: string,
  before: Set<string> = new Set(),
): Promise<string[]> {
  const root = stateRootOf(profile);
  const mine = (text: string) => profile !== 'root' || text.includes(marker);
  const bundles: string[] = [];
  for (const b of await readdir(path.join(root, 'bundles')).catch(() => [] as string[])) {
    const dir = path.join(root, 'bundles', b);
    if (mine(await readFile(path.join(dir, 'config.json'), 'utf8').catch(() => '')))
      bundles.push(dir);
  }
  const out = bundles.map((b) => `bundle ${b}`);
  for (const runtime of RUNTIMES) {
    for (const c of listContainers(runtime, root)) {
      if (before.has(c.id)) continue;
      const gone = c.bundle === undefined || !existsSync(c.bundle);
      if (profile !== 'root' || gone || bundles.includes(c.bundle as string))
        out.push(`${runtime} container ${c.id} (${runtime} --root ${root} list)`);
    }
  }
  const under = profile === 'root' ? bundles : [root];
  for (const m of await hostMountsMatching(profile === 'root' ? '/run/berth' : root)) {
    const point = m.split(' ')[4] as string;
    if (under.some((u) => point.startsWith(u))) out.push(`mount ${point}`);
  }
  return out;
}

function show(tag: string, what: string, detail = ''): void {
  console.log(`  ok ${tag} ${what}${detail ? ` -> ${detail}` : ''}`);
}

test.before(async () => {
  user = ensureUser();
  work = await workDir('berth-e2e-launch-errors-');
  image = await buildDemoImage(path.join(work, 'layout'), 'demo');
  userImage = await buildDemoImage(path.join(work, 'layout'), 'user', { user: 'nobody' });
  await mkdir(path.join(work, 'cache-root'), { mode: 0o700 });
  await mkdir(path.join(work, 'cache-user'), { mode: 0o700 });
  await chown(path.join(work, 'cache-user'), user.uid, user.gid);
  xdg = path.join(work, 'xdg-user');
  await mkdir(xdg, { mode: 0o700 });
  await chown(xdg, user.uid, user.gid);
  // unpack once per cache, so that each test measures the launch, not the first unpack
  for (const profile of ['root', 'user'] as const) {
    const r = await berth(['exec', image.ref, 'true'], opts(profile, 'crun'));
    assert.is(r.code, 0, r.stderr);
  }
  console.log(`e2e launch errors: image ${image.ref}; user ${user.name} (uid ${user.uid})`);
});

test.after(async () => {
  // a container that outlived its launcher (the bug of item 14) must not outlive the test
  for (const pid of pidsMatching('^sleep 47[0-9][0-9]$')) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (work) await rm(work, { recursive: true, force: true });
});

// item 9: runc needs /proc to start the container's process
for (const profile of PROFILES) {
  test(`[runc/${profile}] --no-mount proc is refused up front (255), naming crun`, async () => {
    const r = await berth(
      ['exec', '--no-mount', 'proc', image.ref, 'sh', '-c', 'echo container-ran'],
      opts(profile, 'runc'),
    );
    assert.is(r.code, 255, r.stderr);
    assert.is(r.stdout, '');
    assert.match(r.stderr, /^berth: --no-mount proc is not supported with runc/);
    assert.match(r.stderr, /\nhint: .*crun/);
    assert.not.match(r.stderr, /error closing exec fds/);
    show(`[runc/${profile}]`, '--no-mount proc', '255');
  });

  test(`[crun/${profile}] --no-mount proc runs the container without /proc`, async () => {
    const r = await berth(
      [
        'exec',
        '--no-mount',
        'proc',
        image.ref,
        'sh',
        '-c',
        'test -e /proc/self && echo has-proc || echo no-proc',
      ],
      opts(profile, 'crun'),
    );
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'no-proc\n');
    show(`[crun/${profile}]`, '--no-mount proc', 'no /proc');
  });
}

// item 10: --home with an image USER is refused in all three modes, as upstream does
for (const runtime of RUNTIMES) {
  for (const profile of PROFILES) {
    test(`[${runtime}/${profile}] --home with an image USER exits 255`, async () => {
      const r = await berth(
        ['exec', '--home', '/myhome', userImage.ref, 'sh', '-c', 'echo container-ran'],
        opts(profile, runtime),
      );
      assert.is(r.code, 255, r.stderr);
      assert.is(r.stdout, '');
      assert.match(
        r.stderr,
        /^berth: a custom --home is not currently supported when running containers that declare a USER/m,
      );
      show(`[${runtime}/${profile}]`, '--home with USER', '255');
    });
  }
}

test('[crun/fakeroot] the USER image itself runs (as root) without --home', async () => {
  const r = await berth(['exec', userImage.ref, 'id', '-u'], opts('fakeroot', 'crun'));
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '0\n');
});

// item 14: `timeout` (SIGTERM, then berth's grace period) must take the container with it
for (const profile of ['root', 'user'] as const) {
  for (const runtime of RUNTIMES) {
    const tag = `[${runtime}/${profile}]`;
    test(`${tag} timeout 3 berth exec IMG sleep: 124, then no process, runtime state, bundle or mount`, async () => {
      const marker = `47${RUNTIMES.indexOf(runtime)}${profile === 'root' ? 0 : 1}`;
      const before = containerIds(profile);
      const started = Date.now();
      // `timeout` runs the bin as the profile's user; 3 s leave a loaded machine time to start
      const run = berth(
        ['3', BERTH, 'exec', image.ref, 'sleep', marker],
        opts(profile, runtime, { bin: 'timeout', timeout: 30_000 }),
      );
      await waitFor(
        () => pidsMatching(`^sleep ${marker}$`).length > 0,
        10_000,
        'the container process',
      );
      // while it runs, the traces are there to be seen (so their absence later means something)
      const during = await leftovers(profile, `"${marker}"`, before);
      assert.ok(
        during.some((t) => t.startsWith('bundle ')),
        `no bundle seen while running: ${during}`,
      );
      assert.ok(
        during.some((t) => t.includes(' container ')),
        `no runtime container seen while running: ${during}`,
      );
      const r = await run;
      const elapsed = Date.now() - started;
      assert.is(r.code, 124, r.stderr);
      // 3 s to the SIGTERM, which `sleep` as PID 1 ignores; 5 s later berth SIGKILLs it
      assert.ok(elapsed < 15_000, `berth took ${elapsed} ms to end`);
      assert.equal(pidsMatching(`^sleep ${marker}$`), [], 'the container process lives on');
      const left = (await leftovers(profile, `"${marker}"`, before)).concat(
        during.filter((t) => t.startsWith('bundle ') && existsSync(t.slice('bundle '.length))),
      );
      assert.equal([...new Set(left)], [], 'left behind');
      show(
        tag,
        `timeout 3 berth exec IMG sleep ${marker}`,
        `124 after ${elapsed} ms, nothing left`,
      );
    });
  }
}

// item 19: a runtime that cannot start the container's process is berth's failure (255)
for (const runtime of RUNTIMES) {
  for (const profile of PROFILES) {
    const tag = `[${runtime}/${profile}]`;
    test(`${tag} a missing command exits 255 naming it; the container's own 1 stays 1`, async () => {
      const cmd = `/no/such/cmd-${runtime}-${profile}`;
      const before = containerIds(profile);
      const r = await berth(['exec', image.ref, cmd], opts(profile, runtime));
      assert.is(r.code, 255, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^berth: ${runtime} could not start the container: .*${cmd}`, 'm'),
      );
      assert.not.match(r.stderr, /internal error/);
      assert.equal(await leftovers(profile, cmd, before), [], 'left behind');
      const one = await berth(['exec', image.ref, 'sh', '-c', 'exit 1'], opts(profile, runtime));
      assert.is(one.code, 1, one.stderr);
      assert.not.match(one.stderr, /berth:/);
      show(tag, cmd, '255; sh -c "exit 1" -> 1');
    });
  }
  test(`[${runtime}/user] a 300-character --hostname exits 255 naming it`, async () => {
    const name = 'h'.repeat(300);
    const r = await berth(
      ['exec', '--hostname', name, image.ref, 'sh', '-c', 'echo container-ran'],
      opts('user', runtime),
    );
    assert.is(r.code, 255, r.stderr);
    assert.is(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^berth: --hostname "${name}" is not a valid host name`));
    assert.not.match(r.stderr, /sethostname/);
  });
}

// item 20: bad input is refused before any work, naming the value
test('[root,user] bad input exits 255 naming the value, and the container never runs', async () => {
  const nulFile = path.join(work, 'nul.env');
  await writeFile(nulFile, 'A=1\nB=2\0C=3\n', { mode: 0o644 });
  const table: [string[], RegExp][] = [
    [['-B', ''], /^berth: bind specification "" names no path/],
    [['-B', ',,,'], /^berth: bind specification ",,," names no path/],
    [['--hostname', 'a b'], /^berth: --hostname "a b" is not a valid host name/],
    [['--hostname', '-rf'], /^berth: --hostname "-rf" is not a valid host name/],
    [
      ['--env-file', nulFile],
      new RegExp(`^berth: environment file "${nulFile}" holds a NUL byte \\(line 2\\)`),
    ],
    [['--add-caps', 'CAP_BOGUS'], /^berth: unknown capability "CAP_BOGUS" in --add-caps/],
    [['--drop-caps', 'bogus'], /^berth: unknown capability "bogus" in --drop-caps/],
    [['--no-mount', 'bogus'], /^berth: --no-mount "bogus" is not a mount berth knows/],
    [['--no-mount', 'tmp,bogus'], /^berth: --no-mount "bogus" is not a mount berth knows/],
  ];
  const marker = 'ran-launch-errors-table';
  for (const profile of ['root', 'user'] as const) {
    const before = containerIds(profile);
    for (const [args, message] of table) {
      const r = await berth(['exec', ...args, image.ref, 'echo', marker], opts(profile, 'crun'));
      const what = `[${profile}] ${JSON.stringify(args)}`;
      assert.is(r.code, 255, `${what}: ${r.stderr}`);
      assert.is(r.stdout, '', what);
      assert.match(r.stderr, message, what);
      assert.match(r.stderr, /\nhint: /, what);
    }
    assert.equal(await leftovers(profile, marker, before), [], `[${profile}] left behind`);
  }
  show('[root,user]', 'bad input', `${table.length} values refused each`);
});

test.run();
