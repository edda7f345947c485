/**
 * berth run|exec|shell of locally built images, as root, as an unprivileged user and as that
 * user with --fakeroot, under crun and runc.
 */
import { execFileSync } from 'node:child_process';
import { chown, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
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
  startBerth,
  type User,
  waitFor,
  workDir,
} from '../src/harness.js';
import { buildDemoImage, buildTestImage, OTHER_ID, type TestImage } from '../src/images.js';

requireRoot();

let user: User;
let work: string;
let image: TestImage;
const opts = (
  profile: Profile,
  runtime: RuntimeName,
  extra: Partial<RunOptions> = {},
): RunOptions => ({
  profile,
  runtime,
  user,
  cacheDir: path.join(work, `cache-${profile === 'root' ? 'root' : 'user'}`),
  ...extra,
});
const uidOf = (p: Profile) => (p === 'root' || p === 'fakeroot' ? 0 : user.uid);
const hostUidOf = (p: Profile) => (p === 'root' ? 0 : user.uid);

test.before(async () => {
  user = ensureUser();
  work = await workDir('berth-e2e-');
  image = await buildTestImage(path.join(work, 'layout'), 'test');
  await mkdir(path.join(work, 'cache-root'), { mode: 0o700 });
  await mkdir(path.join(work, 'cache-user'), { mode: 0o700 });
  await chown(path.join(work, 'cache-user'), user.uid, user.gid);
  console.log(`e2e: image ${image.ref}; unprivileged user ${user.name} (uid ${user.uid})`);
});

test.after(async () => {
  // the user's cache holds files owned by its subuids: remove it as root
  if (work) await rm(work, { recursive: true, force: true });
});

function show(profile: Profile, runtime: RuntimeName, what: string, detail = ''): void {
  console.log(`  ok [${runtime}/${profile}] ${what}${detail ? ` -> ${detail}` : ''}`);
}

for (const runtime of RUNTIMES) {
  for (const profile of PROFILES) {
    const tag = `[${runtime}/${profile}]`;

    test(`${tag} id -u: the caller's uid, 0 with --fakeroot`, async () => {
      const r = await berth(['exec', image.ref, 'id', '-u'], opts(profile, runtime));
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout.trim(), String(uidOf(profile)));
      show(profile, runtime, 'exec id -u', r.stdout.trim());
    });

    test(`${tag} image owners are kept: root's files show 0, another uid's show that uid`, async () => {
      const r = await berth(
        [
          'exec',
          image.ref,
          'stat',
          '-c',
          '%u:%g %a %n',
          '/owned/root',
          '/owned/other',
          '/bin/busybox',
        ],
        opts(profile, runtime),
      );
      assert.is(r.code, 0, r.stderr);
      assert.is(
        r.stdout,
        `0:0 644 /owned/root\n${OTHER_ID}:${OTHER_ID} 640 /owned/other\n0:0 755 /bin/busybox\n`,
      );
      show(profile, runtime, 'owners kept', r.stdout.trim().replace(/\n/g, ', '));
    });

    test(`${tag} layers: whiteout, opaque directory, hardlink and symlinks`, async () => {
      const script =
        'test ! -e /deleteme && ls /opaque && cat /data/hardlink && readlink /data/symlink && readlink /data/abs-symlink && cat /data/abs-symlink && cat /etc/motd && stat -c %h /data/file';
      const r = await berth(['exec', image.ref, 'sh', '-c', script], opts(profile, runtime));
      assert.is(r.code, 0, r.stderr);
      assert.is(
        r.stdout,
        'new\nhello from layer 2\nfile\n/data/file\nhello from layer 2\nlayer 3 is uncompressed\n2\n',
      );
      show(profile, runtime, 'layers applied');
    });

    test(`${tag} run: the image's Cmd, WorkingDir and Env`, async () => {
      const r = await berth(['run', image.ref], opts(profile, runtime));
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, 'default-cmd\n');
      const e = await berth(
        [
          'exec',
          '--env',
          'FOO=bar,BAZ=1',
          image.ref,
          'sh',
          '-c',
          'pwd; echo $IMAGE_VAR $FOO $BAZ $HOME',
        ],
        opts(profile, runtime),
      );
      assert.is(e.code, 0, e.stderr);
      const home = profile === 'root' ? '/root' : profile === 'fakeroot' ? '/root' : user.home;
      assert.is(e.stdout, `/data\nfrom-image bar 1 ${home}\n`);
      const c = await berth(['exec', '--cwd', '/opaque', image.ref, 'pwd'], opts(profile, runtime));
      assert.is(c.stdout, '/opaque\n', c.stderr);
      show(profile, runtime, 'run default command, env, cwd');
    });

    test(`${tag} a file written through --bind belongs to the caller on the host`, async () => {
      const dir = path.join(work, `bind-${runtime}-${profile}`);
      await mkdir(dir);
      if (profile !== 'root') await chown(dir, user.uid, user.gid);
      const r = await berth(
        ['exec', '--bind', `${dir}:/mnt`, image.ref, 'sh', '-c', 'echo hi > /mnt/f && id -u'],
        opts(profile, runtime),
      );
      assert.is(r.code, 0, r.stderr);
      const st = await stat(path.join(dir, 'f'));
      assert.is(st.uid, hostUidOf(profile));
      // and a read-only bind refuses writes
      const ro = await berth(
        ['exec', '-B', `${dir}:/ro:ro`, image.ref, 'sh', '-c', 'echo x > /ro/g'],
        opts(profile, runtime),
      );
      assert.is.not(ro.code, 0);
      show(profile, runtime, 'bind write', `host owner ${st.uid}`);
    });

    test(`${tag} shell in a terminal: a tty, the prompt, the exit status`, async () => {
      const r = await berth(
        ['shell', image.ref],
        opts(profile, runtime, { pty: true, input: 'tty; id -u; exit 5\n' }),
      );
      assert.is(r.code, 5, r.stdout + r.stderr);
      assert.match(r.stdout, /Berth> /);
      assert.match(r.stdout, new RegExp(`/dev/pts/\\d+\r?\n${uidOf(profile)}\r?\n`));
      show(profile, runtime, 'shell in a pty', 'exit 5');
    });

    test(`${tag} exit status: the container's`, async () => {
      const r = await berth(['exec', image.ref, 'sh', '-c', 'exit 3'], opts(profile, runtime));
      assert.is(r.code, 3, r.stderr);
      show(profile, runtime, "sh -c 'exit 3'", String(r.code));
    });

    test(`${tag} a container killed by SIGKILL gives 137`, async () => {
      const marker = `98765${RUNTIMES.indexOf(runtime)}${PROFILES.indexOf(profile)}`;
      const run = startBerth(['exec', image.ref, 'sleep', marker], opts(profile, runtime));
      const [pid] = await waitFor(
        () => {
          const p = pidsMatching(`^sleep ${marker}$`);
          return p.length > 0 ? p : undefined;
        },
        15_000,
        'the container process',
      );
      process.kill(pid as number, 'SIGKILL');
      const r = await run;
      assert.is(r.exitCode, 137, String(r.stderr));
      show(profile, runtime, 'SIGKILL', '137');
    });

    test(`${tag} SIGTERM sent to berth reaches the container`, async () => {
      const run = startBerth(
        [
          'exec',
          image.ref,
          'sh',
          '-c',
          'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.1; done',
        ],
        opts(profile, runtime),
      );
      let out = '';
      run.stdout?.on('data', (d) => {
        out += d;
      });
      await waitFor(() => out.includes('ready'), 15_000, 'the container to start');
      run.kill('SIGTERM');
      const r = await run;
      assert.is(r.exitCode, 42, String(r.stderr));
      assert.match(String(r.stdout), /got-term/);
      show(profile, runtime, 'SIGTERM to berth', `exit ${r.exitCode}`);
    });
  }
}

test('[user] an image whose / only its root may enter still runs; berth says why /etc/passwd stays', async () => {
  // the rootfs belongs to a subordinate id with mode 0700: the user cannot read its /etc/passwd
  const priv = await buildDemoImage(path.join(work, 'private-root'), 'private', {
    rootMode: 0o700,
  });
  execFileSync('chmod', ['-R', 'a+rX', priv.layout]);
  const r = await berth(['exec', priv.ref, 'id', '-u'], opts('user', 'runc'));
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `${user.uid}\n`);
  assert.match(r.stderr, /cannot read the image's \/etc\/passwd \(its permissions keep you out\)/);
});

for (const profile of PROFILES) {
  test(`[${profile}] a missing bind source exits 255 naming the path`, async () => {
    const r = await berth(
      ['exec', '--bind', '/does/not/exist:/x', image.ref, 'true'],
      opts(profile, 'crun'),
    );
    assert.is(r.code, 255);
    assert.match(r.stderr, /\/does\/not\/exist/);
    assert.match(r.stderr, /^berth: /);
  });

  test(`[${profile}] a missing image exits 255 naming the reference`, async () => {
    const ref = `oci:${work}/no-such-layout:latest`;
    const r = await berth(['exec', ref, 'true'], opts(profile, 'crun'));
    assert.is(r.code, 255);
    assert.ok(r.stderr.includes('no-such-layout'), r.stderr);
  });
}

for (const profile of PROFILES) {
  test(`[${profile}] SIGINT during the preparation exits 130 and leaves no temporary cache`, async () => {
    // --disable-cache unpacks into a fresh temporary cache: the signal arrives while it does
    const tmp = path.join(work, `tmp-int-${profile}`);
    await mkdir(tmp);
    if (profile !== 'root') await chown(tmp, user.uid, user.gid);
    const run = startBerth(
      ['exec', '--disable-cache', image.ref, 'sh', '-c', 'echo container-ran'],
      opts(profile, 'runc', { env: { TMPDIR: tmp } }),
    );
    await waitFor(
      async () => (await readdir(tmp)).some((n) => n.startsWith('berth-nocache-')),
      15_000,
      'the temporary cache',
    );
    run.kill('SIGINT');
    const r = await run;
    assert.is(r.exitCode, 130, `${r.stdout}${r.stderr}`);
    assert.not.match(String(r.stdout), /container-ran/);
    assert.equal(
      (await readdir(tmp)).filter((n) => n.startsWith('berth-nocache-')),
      [],
      'temporary cache left behind',
    );
    show(profile, 'runc', 'SIGINT while preparing', '130');
  });
}

test('OCI layouts made by skopeo and umoci run too', async () => {
  const skopeoLayout = path.join(work, 'skopeo-layout');
  execFileSync('skopeo', [
    'copy',
    '--quiet',
    `oci:${image.layout}:test`,
    `oci:${skopeoLayout}:copied`,
  ]);
  const umociLayout = path.join(work, 'umoci-layout');
  const bundle = path.join(work, 'umoci-bundle');
  execFileSync('umoci', ['init', '--layout', umociLayout]);
  execFileSync('umoci', ['new', '--image', `${umociLayout}:base`]);
  execFileSync('umoci', ['unpack', '--image', `${umociLayout}:base`, bundle]);
  await mkdir(path.join(bundle, 'rootfs', 'bin'), { recursive: true });
  execFileSync('cp', ['/bin/busybox', path.join(bundle, 'rootfs', 'bin', 'busybox')]);
  execFileSync('umoci', ['repack', '--image', `${umociLayout}:base`, bundle]);
  execFileSync('umoci', [
    'config',
    '--image',
    `${umociLayout}:base`,
    '--config.cmd',
    '/bin/busybox',
    '--config.cmd',
    'echo',
    '--config.cmd',
    'umoci-made',
  ]);
  // umoci writes its layout private to root: let the unprivileged user read it
  execFileSync('chmod', ['-R', 'a+rX', umociLayout, skopeoLayout]);
  for (const runtime of RUNTIMES) {
    for (const profile of PROFILES) {
      const a = await berth(
        ['exec', `oci:${skopeoLayout}:copied`, 'cat', '/data/file'],
        opts(profile, runtime),
      );
      assert.is(a.stdout, 'hello from layer 2\n', a.stderr);
      const b = await berth(['run', `oci:${umociLayout}:base`], opts(profile, runtime));
      assert.is(b.stdout, 'umoci-made\n', b.stderr);
      show(profile, runtime, 'skopeo and umoci layouts');
    }
  }
});

test('nothing is left behind: no bundle, mount or container process', async () => {
  for (const dir of ['/run/berth/bundles', path.join('/tmp', `berth-${user.uid}`, 'bundles')]) {
    const left = await readdir(dir).catch(() => []);
    assert.equal(left, [], `leftover bundles in ${dir}`);
  }
  assert.equal(await hostMountsMatching('berth'), []);
  assert.equal(pidsMatching('^sleep 98765'), []);
  for (const dir of ['/run/berth', path.join('/tmp', `berth-${user.uid}`)]) {
    const states = await readdir(dir).catch(() => [] as string[]);
    assert.not.ok(
      states.some((s) => s.startsWith('berth-')),
      `runtime state left in ${dir}: ${states}`,
    );
  }
});

test.run();
