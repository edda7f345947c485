/**
 * Malformed command lines (issue 9, the last test bullet): bind specs, --mount, env files, image
 * references, numbers, ids, signals, host names, pull references. Through the built bin (its
 * shebang, as an installed `berth`), mostly as the unprivileged user, a few as root and with
 * --fakeroot: each exits 255 with `berth: <message>` on stderr, none is an internal error, none
 * exits 0, no container runs, and nothing is left under the state root.
 */
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
  type Profile,
  type RunOptions,
  requireRoot,
  type User,
  workDir,
} from '../src/harness.js';
import { buildDemoImage, type TestImage } from '../src/images.js';

requireRoot();

let user: User;
let work: string;
let image: TestImage;
/** The user's XDG_RUNTIME_DIR: a private state root, so what is left there is ours. */
let xdg: string;

const opts = (profile: Profile, extra: Partial<RunOptions> = {}): RunOptions => ({
  profile,
  runtime: 'crun',
  user,
  bin: BERTH,
  cacheDir: path.join(work, `cache-${profile === 'root' ? 'root' : 'user'}`),
  ...(profile !== 'root' && { env: { XDG_RUNTIME_DIR: xdg } }),
  ...extra,
});

/** What the container would print, had it run. */
const RAN = 'cli-errors-container-ran';

/** One malformed command line; IMG, DIR and W stand for the image, a user-owned dir, the work dir. */
interface Case {
  args: string[];
  /** Who runs it (default: the user). */
  profile?: Profile;
  /** What stderr's first line must say, beyond `berth: `. */
  says?: RegExp;
}

const CASES: Case[] = [
  // bind specifications
  { args: ['exec', '-B', '', 'IMG', 'echo', RAN], says: /names no path/ },
  { args: ['exec', '-B', ',,,', 'IMG', 'echo', RAN], says: /",,,"/ },
  { args: ['exec', '-B', '/tmp:rel', 'IMG', 'echo', RAN], says: /"rel" must be an absolute/ },
  { args: ['exec', '-B', '/tmp:/y:bogus', 'IMG', 'echo', RAN], says: /"bogus" is not a valid/ },
  { args: ['exec', '-B', '/tmp:/y:ro:x', 'IMG', 'echo', RAN], says: /more than three ":"/ },
  { args: ['exec', '-B', ':/y', 'IMG', 'echo', RAN], says: /empty source/ },
  { args: ['exec', '-B', '/tmp::ro', 'IMG', 'echo', RAN], says: /destination ""/ },
  { args: ['exec', '-B', '/tmp:/', 'IMG', 'echo', RAN], says: /container root/ },
  { args: ['exec', '-B', '/does/not/exist:/x', 'IMG', 'echo', RAN], says: /\/does\/not\/exist/ },
  { args: ['exec', '-B', 'image-src=/x', 'IMG', 'echo', RAN] },
  // --mount
  { args: ['exec', '--mount', '', 'IMG', 'echo', RAN], says: /names no mount/ },
  {
    args: ['exec', '--mount', 'type=volume,src=/tmp,dst=/y', 'IMG', 'echo', RAN],
    says: /"volume"/,
  },
  { args: ['exec', '--mount', 'src=/tmp', 'IMG', 'echo', RAN], says: /source and a destination/ },
  {
    args: ['exec', '--mount', 'type=bind,dst=/y', 'IMG', 'echo', RAN],
    says: /source and a destination/,
  },
  { args: ['exec', '--mount', 'type=bind,src=/tmp,dst=rel', 'IMG', 'echo', RAN], says: /"rel"/ },
  { args: ['exec', '--mount', 'bogus', 'IMG', 'echo', RAN], says: /invalid key "bogus"/ },
  {
    args: ['exec', '--mount', 'type=bind,src=/tmp,dst=/y,foo=bar', 'IMG', 'echo', RAN],
    says: /invalid key "foo"/,
  },
  {
    args: ['exec', '--mount', 'type=bind,src=/tmp,dst=/y,bind-propagation=shared', 'IMG', 'true'],
    says: /bind-propagation/,
  },
  { args: ['exec', '--mount', 'type=bind,src=,dst=/y', 'IMG', 'true'], says: /source cannot be/ },
  // env files and --env
  { args: ['exec', '--env-file', '/no/such.env', 'IMG', 'echo', RAN], says: /"\/no\/such\.env"/ },
  { args: ['exec', '--env-file', 'W/nul.env', 'IMG', 'echo', RAN], says: /NUL byte/ },
  { args: ['exec', '--env-file', 'W/unclosed.env', 'IMG', 'echo', RAN], says: /not closed/ },
  { args: ['exec', '--env-file', 'W', 'IMG', 'echo', RAN], says: /is a directory/ },
  { args: ['exec', '--env', '=x', 'IMG', 'echo', RAN], says: /NAME=value/ },
  { args: ['exec', '--env', '', 'IMG', 'echo', RAN], says: /NAME=value/ },
  // image references
  { args: ['exec', '', 'echo', RAN], says: /image reference is required/ },
  { args: ['exec', 'docker://', 'echo', RAN], says: /"docker:\/\/"/ },
  { args: ['exec', 'docker://UPPER/Case', 'echo', RAN], says: /"Case"/ },
  { args: ['exec', 'docker://alpine:bad:tag', 'echo', RAN], says: /alpine:bad:tag/ },
  { args: ['exec', 'docker://alpine@sha256:1234', 'echo', RAN], says: /not a sha256 digest/ },
  { args: ['exec', 'oci:', 'echo', RAN], says: /empty path/ },
  { args: ['exec', 'oci:/no/such:tag', 'echo', RAN], says: /"\/no\/such" does not exist/ },
  { args: ['exec', 'oci:W/layout:nosuchtag', 'echo', RAN], says: /no tag "nosuchtag"/ },
  { args: ['exec', 'unknown-transport://x', 'echo', RAN], says: /invalid image reference/ },
  { args: ['exec', 'oci-archive:/no/such.tar', 'echo', RAN], says: /"\/no\/such\.tar"/ },
  { args: ['exec', 'docker-archive:/no/such.tar', 'echo', RAN], says: /"\/no\/such\.tar"/ },
  { args: ['exec', '/no/such/path', 'echo', RAN], says: /"\/no\/such\/path"/ },
  { args: ['exec', '--platform', 'linux/', 'IMG', 'echo', RAN], says: /invalid platform/ },
  { args: ['exec', '--platform', 'linux/bogus', 'IMG', 'echo', RAN], says: /linux\/bogus/ },
  // numbers and sizes
  { args: ['exec', '--cpus', 'abc', 'IMG', 'echo', RAN], says: /"abc"/ },
  { args: ['exec', '--cpus', '-1', 'IMG', 'echo', RAN], says: /"-1"/ },
  { args: ['exec', '--cpus', '100000', 'IMG', 'echo', RAN], says: /range/ },
  { args: ['exec', '--memory', '12Q', 'IMG', 'echo', RAN], says: /"12Q"/ },
  { args: ['exec', '--memory', '-5', 'IMG', 'echo', RAN], says: /"-5"/ },
  { args: ['exec', '--memory', '', 'IMG', 'echo', RAN], says: /--memory/ },
  { args: ['exec', '--memory-swap', 'x', 'IMG', 'echo', RAN], says: /"x"/ },
  { args: ['exec', '--cpu-shares', 'abc', 'IMG', 'echo', RAN], says: /--cpu-shares/ },
  { args: ['exec', '--pids-limit', 'abc', 'IMG', 'echo', RAN], says: /--pids-limit/ },
  { args: ['exec', '--pids-limit', '1.5', 'IMG', 'echo', RAN], says: /whole number/ },
  { args: ['exec', '--blkio-weight', '5', 'IMG', 'echo', RAN], says: /10-1000/ },
  { args: ['exec', '--cpu-shares', '-3', 'IMG', 'echo', RAN], says: /cpu-shares .*2-262144/ },
  { args: ['exec', '--env', 'BAD NAME=x', 'IMG', 'echo', RAN], says: /--env .*whitespace/ },
  { args: ['exec', '--env-file', '', 'IMG', 'echo', RAN], says: /env-file .*empty path/ },
  { args: ['exec', '--blkio-weight-device', '/dev/sda', 'IMG', 'echo', RAN], says: /format/ },
  { args: ['exec', '--apply-cgroups', '/no/such.toml', 'IMG', 'true'], says: /such\.toml/ },
  { args: ['exec', '--memory', '12Q', 'IMG', 'echo', RAN], profile: 'root', says: /"12Q"/ },
  { args: ['exec', '--cpuset-cpus', 'a-b', 'IMG', 'echo', RAN], profile: 'root', says: /"a-b"/ },
  { args: ['exec', '--cpuset-mems', '3-1', 'IMG', 'echo', RAN], says: /"3-1"/ },
  // host names, names of capabilities and mounts, paths, runtimes
  { args: ['exec', '--hostname', 'a b', 'IMG', 'echo', RAN], says: /"a b"/ },
  { args: ['exec', '--hostname', '-rf', 'IMG', 'echo', RAN], says: /"-rf"/ },
  { args: ['exec', '--hostname', 'h'.repeat(300), 'IMG', 'echo', RAN], says: /not a valid host/ },
  { args: ['exec', '--hostname', 'a..b', 'IMG', 'echo', RAN], profile: 'root', says: /"a\.\.b"/ },
  { args: ['exec', '--add-caps', 'CAP_BOGUS', 'IMG', 'echo', RAN], says: /"CAP_BOGUS"/ },
  { args: ['exec', '--drop-caps', 'bogus', 'IMG', 'echo', RAN], says: /"bogus"/ },
  { args: ['exec', '--no-mount', 'bogus', 'IMG', 'echo', RAN], says: /"bogus"/ },
  { args: ['exec', '--dns', '1.2.3', 'IMG', 'echo', RAN], says: /"1\.2\.3"/ },
  { args: ['exec', '--net', '--network', 'bridge', 'IMG', 'echo', RAN], says: /Network/ },
  { args: ['exec', '--cwd', 'relative', 'IMG', 'echo', RAN], says: /--cwd/ },
  { args: ['exec', '--home', 'relative', 'IMG', 'echo', RAN], says: /"relative"/ },
  { args: ['exec', '--home', 'a:b:c', 'IMG', 'echo', RAN] },
  { args: ['exec', '-W', '/no/such/dir', 'IMG', 'echo', RAN], says: /"\/no\/such\/dir"/ },
  { args: ['exec', '--overlay', '/no/such', 'IMG', 'echo', RAN], says: /"\/no\/such"/ },
  { args: ['exec', '--scratch', 'relative', 'IMG', 'echo', RAN], says: /"relative"/ },
  { args: ['exec', '--device', 'bogus', 'IMG', 'echo', RAN], says: /"bogus"/ },
  { args: ['exec', '--runtime', 'nosuchruntime', 'IMG', 'echo', RAN], says: /"nosuchruntime"/ },
  { args: ['exec', '--runtime', '/no/such/crun', 'IMG', 'echo', RAN] },
  { args: ['exec', '--compat', 'IMG', 'echo', RAN] },
  { args: ['exec', '--writable', 'IMG', 'echo', RAN], profile: 'fakeroot' },
  {
    args: ['exec', '--no-mount', 'proc', '--runtime', 'runc', 'IMG', 'echo', RAN],
    says: /crun|runc/,
  },
  // the command line itself
  { args: ['bogus'], says: /bogus/ },
  { args: ['exec'], says: /image/ },
  { args: ['exec', 'IMG'], says: /needs a command/ },
  { args: ['exec', '--bogus', 'IMG', 'echo', RAN], says: /bogus/ },
  { args: ['run'], says: /image/ },
  { args: ['shell', '--bogus', 'IMG'], says: /bogus/ },
  { args: ['cache', 'bogus'], says: /list or clean/ },
  { args: ['oci', 'bogus'], says: /oci command/ },
  { args: ['oci', 'list', '--bogus'], says: /bogus/ },
  // pull references
  { args: ['pull'], says: /image/ },
  { args: ['pull', ''], says: /image reference is required/ },
  { args: ['pull', 'docker://'], says: /"docker:\/\/"/ },
  { args: ['pull', 'docker://bad ref'], says: /"docker:\/\/bad ref"/ },
  { args: ['pull', 'docker://a:b:c'], says: /"docker:\/\/a:b:c"/ },
  { args: ['pull', 'oci:/no/such'], says: /"\/no\/such" does not exist/ },
  { args: ['pull', '--platform', 'bogus', 'IMG'], says: /bogus/ },
  { args: ['pull', 'docker://alpine', '--platform', 'linux/'], profile: 'root' },
  // oci ids, bundles and signals
  { args: ['oci', 'state', '../x'], says: /invalid container id "\.\.\/x"/ },
  { args: ['oci', 'state', ''], says: /invalid container id ""/ },
  { args: ['oci', 'state', 'a/b'], says: /"a\/b"/ },
  { args: ['oci', 'state', 'nosuch'], says: /no container "nosuch"/ },
  { args: ['oci', 'start', '../x'], says: /"\.\.\/x"/ },
  { args: ['oci', 'kill', '../x', 'BOGUS'], says: /"\.\.\/x"/ },
  { args: ['oci', 'kill', 'nosuch', 'SIGTERM'], says: /"nosuch"/ },
  { args: ['oci', 'delete', ''], says: /invalid container id ""/ },
  { args: ['oci', 'delete', '../x'], profile: 'root', says: /"\.\.\/x"/ },
  { args: ['oci', 'create', '-b', 'DIR/bundle', '../x'], says: /container id/ },
  { args: ['oci', 'create', '-b', '/no/such/bundle', 'okid'], says: /"\/no\/such\/bundle"/ },
  { args: ['oci', 'create', 'okid'], says: /bundle/ },
  { args: ['oci', 'run', '-b', '/no/such/bundle', 'okid'], says: /"\/no\/such\/bundle"/ },
  { args: ['oci', 'exec', 'nosuch', 'true'], says: /"nosuch"/ },
  { args: ['oci', 'attach', 'nosuch'], says: /"nosuch"/ },
  { args: ['oci', 'pause', 'nosuch'], says: /"nosuch"/ },
  { args: ['oci', 'resume', 'nosuch'], says: /"nosuch"/ },
  { args: ['oci', 'mount', 'IMG', ''], says: /bundle/ },
  { args: ['oci', 'mount', 'oci:/no/such', 'DIR/never-made'], says: /"\/no\/such"/ },
  { args: ['oci', 'mount', 'docker://', 'DIR/never-made'], says: /"docker:\/\/"/ },
  { args: ['oci', 'umount', '/no/such/bundle'], says: /"\/no\/such\/bundle"/ },
  { args: ['oci', 'umount', 'W'], says: /not a bundle made by berth/ },
  { args: ['oci', 'umount', ''], says: /bundle/ },
  // operands after --: those that look like options are refused, not left aside
  { args: ['oci', 'state', '--', '-x'], says: /"-x" after "--" is not an operand/ },
  { args: ['oci', 'kill', 'nosuch', '--', '-9'], says: /"-9" after "--"/ },
  { args: ['oci', 'create', '-b', 'DIR/bundle', '--', '-x'], says: /"-x" after "--"/ },
  { args: ['oci', 'state', '--'], says: /argument/ },
  { args: ['cache', 'clean', '--', '-x'], says: /"-x" after "--"/ },
  { args: ['cache', 'clean', '--', 'IMG', 'IMG'], says: /argument/ },
];

test.before(async () => {
  user = ensureUser();
  work = await workDir('berth-e2e-cli-errors-');
  image = await buildDemoImage(path.join(work, 'layout'), 'demo');
  await mkdir(path.join(work, 'cache-root'), { mode: 0o700 });
  await mkdir(path.join(work, 'cache-user'), { mode: 0o700 });
  await chown(path.join(work, 'cache-user'), user.uid, user.gid);
  xdg = path.join(work, 'xdg-user');
  await mkdir(xdg, { mode: 0o700 });
  await chown(xdg, user.uid, user.gid);
  const dir = path.join(work, 'user-dir');
  await mkdir(path.join(dir, 'bundle'), { recursive: true });
  await chown(dir, user.uid, user.gid);
  await chown(path.join(dir, 'bundle'), user.uid, user.gid);
  await writeFile(path.join(work, 'nul.env'), 'A=1\0B=2\n', { mode: 0o644 });
  await writeFile(path.join(work, 'unclosed.env'), 'A="open\n', { mode: 0o644 });
  // one good run per cache: the state roots exist, the image is unpacked
  for (const profile of ['root', 'user'] as const) {
    const r = await berth(['exec', image.ref, 'true'], opts(profile));
    assert.is(r.code, 0, r.stderr);
  }
  console.log(`e2e cli errors: image ${image.ref}; user ${user.name} (uid ${user.uid})`);
});

test.after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const expand = (a: string) =>
  a === 'IMG'
    ? image.ref
    : a
        .replace(/^DIR(?=\/|$)/, path.join(work, 'user-dir'))
        .replace(/^W(?=\/|$)/, work)
        .replace(/^oci:W\//, `oci:${work}/`);

/** The containers `berth oci list --json` shows for a profile. */
async function ociIds(profile: Profile): Promise<string[]> {
  const r = await berth(['oci', 'list', '--json'], opts(profile));
  assert.is(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { id: string }[]).map((s) => s.id).sort();
}

test(`${CASES.length} malformed command lines: 255, "berth: ...", never an internal error`, async () => {
  const before = { root: await ociIds('root'), user: await ociIds('user') };
  const rootBundles = new Set(await readdir('/run/berth/bundles').catch(() => []));
  const failures: string[] = [];
  for (const c of CASES) {
    const profile = c.profile ?? 'user';
    const args = c.args.map(expand);
    const r = await berth(args, opts(profile));
    const what = `[${profile}] berth ${args.map((a) => JSON.stringify(a)).join(' ')}`;
    const first = r.stderr.split('\n')[0] ?? '';
    const problems = [
      r.code !== 255 && `exit ${r.code}`,
      !r.stderr.startsWith('berth: ') && 'stderr does not start with "berth: "',
      /internal error|this is a bug/i.test(r.stderr) && 'an internal error',
      r.stdout.includes(RAN) && 'the container ran',
      c.says && !c.says.test(first) && `the message does not match ${c.says}`,
    ].filter(Boolean);
    if (problems.length > 0)
      failures.push(`${what}: ${problems.join(', ')}\n    stderr: ${r.stderr.trim()}`);
  }
  assert.equal(failures, [], `\n${failures.join('\n')}`);

  // nothing left: no container (oci or exec), bundle or mount, no bundle made by a failed mount
  assert.equal(await ociIds('user'), before.user, 'oci containers left (user)');
  assert.equal(await ociIds('root'), before.root, 'oci containers left (root)');
  const userRoot = path.join(xdg, 'berth');
  assert.equal(await readdir(path.join(userRoot, 'bundles')), [], 'bundles left (user)');
  assert.equal(await hostMountsMatching(userRoot), [], 'mounts left (user)');
  for (const b of await readdir('/run/berth/bundles').catch(() => [] as string[])) {
    if (rootBundles.has(b)) continue;
    const config = await readFile(path.join('/run/berth/bundles', b, 'config.json'), 'utf8').catch(
      () => '',
    );
    assert.not.ok(config.includes(RAN), `bundle left (root): ${b}`);
  }
  assert.not.ok(
    existsSync(path.join(work, 'user-dir', 'never-made')),
    'a failed oci mount made its bundle',
  );
  assert.equal(
    await readdir(path.join(work, 'user-dir', 'bundle')),
    [],
    'oci create wrote into the bundle',
  );
  console.log(`  ok ${CASES.length} malformed command lines refused`);
});

test('-- before operands and checked signal names, on a real container and cache (issue 9, items 16 and 18)', async () => {
  const run = async (args: string[], code = 0) => {
    const r = await berth(args, opts('user'));
    assert.is(r.code, code, `berth ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const state = async (id: string) =>
    (JSON.parse((await run(['oci', 'state', '--', id])).stdout) as { status: string }).status;
  const bundle = path.join(work, 'user-dir', 'kill-bundle');
  await run(['oci', 'mount', image.ref, bundle]);
  try {
    const before = await ociIds('user');
    // a missing id stops the command: no container named "undefined" is created
    const missing = await run(['oci', 'create', '-b', bundle], 255);
    assert.match(missing.stderr, /^berth: /);
    await run(['oci', 'create', '-b', bundle, '--'], 255);
    assert.equal(await ociIds('user'), before);
    await run(['oci', 'create', '-b', bundle, '--', 'sig-c']);
    assert.is(await state('sig-c'), 'created');
    for (const bad of ['BOGUS', 'SIGFOO', '', '0', '65', 'TERM;']) {
      const r = await run(['oci', 'kill', 'sig-c', bad], 255);
      assert.match(r.stderr, /^berth: .*signal/, bad);
    }
    await run(['oci', 'kill', 'sig-c', '--signal', 'NOPE'], 255);
    await run(['oci', 'kill', 'sig-c', '--', '-9'], 255);
    assert.is(await state('sig-c'), 'created', 'a refused kill sent nothing');
    await run(['oci', 'kill', '--', 'sig-c', 'kill']);
    const deadline = Date.now() + 10_000;
    while ((await state('sig-c')) !== 'stopped' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.is(await state('sig-c'), 'stopped');
    await run(['oci', 'delete', '--', 'sig-c']);
    assert.equal(await ociIds('user'), before);
  } finally {
    await berth(['oci', 'delete', '--force', 'sig-c'], opts('user'));
    await run(['oci', 'umount', bundle]);
  }

  // `cache clean -- IMAGE` removes that image only, not everything
  const other = await buildDemoImage(path.join(work, 'layout'), 'other', { user: '1234' });
  const cache = path.join(work, 'cache-clean');
  await mkdir(cache, { mode: 0o700 });
  await chown(cache, user.uid, user.gid);
  const inCache = (args: string[], code = 0) =>
    berth(args, opts('user', { cacheDir: cache })).then((r) => {
      assert.is(r.code, code, `berth ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    });
  await inCache(['exec', image.ref, 'true']);
  await inCache(['exec', other.ref, 'true']);
  assert.match(await inCache(['cache', 'clean', '--', image.ref]), /^removed 1 images/);
  const listed = await inCache(['cache', 'list']);
  assert.ok(listed.includes(other.ref), listed);
  assert.not.ok(listed.includes(image.ref), listed);
});

test.run();
