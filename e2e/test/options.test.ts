/**
 * berth run|exec|shell options (issue 5), as root, as an unprivileged user and as that user with
 * --fakeroot, under crun and runc. Expectations follow SingularityCE's --oci mode
 * (docs/singularity-compat.md); where berth deliberately differs, the test says so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  mkdir,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { ociErrors } from '../../packages/bundle-spec/test/oci-schema.js';
import {
  berth,
  ensureUser,
  PROFILES,
  type Profile,
  RUNTIMES,
  type RunOptions,
  type RuntimeName,
  requireRoot,
  type User,
  workDir,
} from '../src/harness.js';
import { BUSYBOX, buildTestImage, type TestImage } from '../src/images.js';
import { writeOciImage } from '../src/oci-layout.js';

requireRoot();

/** `BERTH_E2E_ONLY=regex` runs only the tests whose name matches (for working on one). */
const ONLY = process.env.BERTH_E2E_ONLY ? new RegExp(process.env.BERTH_E2E_ONLY) : undefined;
const test = Object.assign(
  (name: string, fn: () => void | Promise<void>) =>
    (ONLY && !ONLY.test(name) ? uvuTest.skip : uvuTest)(name, fn),
  { before: uvuTest.before, after: uvuTest.after, run: uvuTest.run },
);

const EXTRA_GROUP = 'berth-e2e-extra';
let user: User;
let work: string;
let image: TestImage;
/** Images declaring USER (and a /var/tmp that is /tmp), by tag. */
let userImage: (tag: string) => string;
let extraGid: number;
const ORIGINAL_CWD = process.cwd();

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
const uidOf = (p: Profile) => (p === 'user' ? user.uid : 0);
const hostUidOf = (p: Profile) => (p === 'root' ? 0 : user.uid);
const homeOf = (p: Profile) => (p === 'user' ? user.home : '/root');
const nameOf = (p: Profile) => (p === 'user' ? user.name : 'root');

/** A directory under the work dir that the profile's host user owns. */
async function ownedDir(profile: Profile, name: string): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  if (profile !== 'root') await chown(dir, user.uid, user.gid);
  return dir;
}

function show(profile: Profile, runtime: RuntimeName, what: string, detail = ''): void {
  console.log(`  ok [${runtime}/${profile}] ${what}${detail ? ` -> ${detail}` : ''}`);
}

/** A small busybox image declaring USER, with alice (1234) in its passwd and /var/tmp -> /tmp. */
async function buildUserImages(layout: string): Promise<void> {
  const dir = path.join(work, 'user-image-stage');
  await mkdir(path.join(dir, 'bin'), { recursive: true });
  await copyFile(BUSYBOX, path.join(dir, 'bin', 'busybox'));
  await chmod(path.join(dir, 'bin', 'busybox'), 0o755);
  for (const a of ['sh', 'id', 'cat', 'echo', 'stat', 'grep', 'readlink', 'test', 'ls', 'touch']) {
    await symlink('busybox', path.join(dir, 'bin', a));
  }
  for (const d of ['etc', 'tmp', 'var', 'home/alice', 'root', 'proc', 'sys', 'dev']) {
    await mkdir(path.join(dir, d), { recursive: true });
  }
  await chmod(path.join(dir, 'tmp'), 0o1777);
  await symlink('../tmp', path.join(dir, 'var', 'tmp'));
  await chown(path.join(dir, 'home/alice'), 1234, 1234);
  await writeFile(
    path.join(dir, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nalice:x:1234:1234:alice:/home/alice:/bin/sh\n',
  );
  await writeFile(path.join(dir, 'etc/group'), 'root:x:0:\nalice:x:1234:\n');
  const env = ['PATH=/bin'];
  for (const [tag, u] of [
    ['alice', 'alice'],
    ['uid', '1234'],
    ['unknown', 'bob'],
    ['root', 'root'],
    ['nouser', undefined],
  ] as const) {
    await writeOciImage(layout, tag, [{ dir }], { Env: env, ...(u ? { User: u } : {}) });
  }
  await rm(dir, { recursive: true, force: true });
}

test.before(async () => {
  user = ensureUser();
  work = await workDir('berth-e2e-opts-');
  image = await buildTestImage(path.join(work, 'layout'), 'test');
  await buildUserImages(path.join(work, 'user-layout'));
  userImage = (tag) => `oci:${path.join(work, 'user-layout')}:${tag}`;
  await mkdir(path.join(work, 'cache-root'), { mode: 0o700 });
  await mkdir(path.join(work, 'cache-user'), { mode: 0o700 });
  await chown(path.join(work, 'cache-user'), user.uid, user.gid);
  // a supplementary group, to see what --no-setgroups keeps
  execFileSync('groupadd', ['-f', EXTRA_GROUP]);
  execFileSync('usermod', ['-a', '-G', EXTRA_GROUP, user.name]);
  extraGid = Number(
    execFileSync('getent', ['group', EXTRA_GROUP], { encoding: 'utf8' }).split(':')[2],
  );
  // --no-compat binds the current directory: make it one every profile can reach
  process.chdir(work);
  console.log(`e2e options: image ${image.ref}; user ${user.name} (uid ${user.uid})`);
});

test.after(async () => {
  process.chdir(ORIGINAL_CWD);
  for (const argv of [
    ['gpasswd', '-d', user.name, EXTRA_GROUP],
    ['groupdel', EXTRA_GROUP],
  ]) {
    try {
      execFileSync(argv[0] as string, argv.slice(1), { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  if (work) await rm(work, { recursive: true, force: true });
});

for (const runtime of RUNTIMES) {
  for (const profile of PROFILES) {
    const tag = `[${runtime}/${profile}]`;
    const o = (extra: Partial<RunOptions> = {}) => opts(profile, runtime, extra);

    test(`${tag} --home dst, --workdir with --scratch, nested binds, --mount ro, a writable root`, async () => {
      const wd = await ownedDir(profile, `wd-${runtime}-${profile}`);
      const d = await ownedDir(profile, `binds-${runtime}-${profile}`);
      await mkdir(path.join(d, 'sub'), { recursive: true });
      await writeFile(path.join(d, 'f'), 'outer\n');
      await writeFile(path.join(d, 'sub', 'g'), 'inner\n');
      const other = await ownedDir(profile, `other-${runtime}-${profile}`);
      await writeFile(path.join(other, 'g'), 'nested\n');
      const r = await berth(
        [
          'exec',
          '--home',
          '/myhomeloc',
          '-W',
          wd,
          '-S',
          '/scr',
          '-B',
          `${d}:/mnt`,
          '-B',
          `${other}:/mnt/sub`,
          '--mount',
          `type=bind,src=${d},dst=/m,ro`,
          image.ref,
          'sh',
          '-c',
          'echo HOME=$HOME; grep -q " /myhomeloc tmpfs " /proc/mounts && echo home-tmpfs; echo t > /tmp/t; echo v > /var/tmp/v; echo s > /scr/s; cat /mnt/f /mnt/sub/g; touch /m/x 2>/dev/null || echo m-ro; echo x > /newfile && echo rw-root; pwd',
        ],
        o(),
      );
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, 'HOME=/myhomeloc\nhome-tmpfs\nouter\nnested\nm-ro\nrw-root\n/data\n');
      for (const [file, content] of [
        ['tmp/t', 't\n'],
        ['var_tmp/v', 'v\n'],
        ['scratch/scr/s', 's\n'],
      ] as const) {
        assert.is(await readFile(path.join(wd, file), 'utf8'), content, file);
        assert.is(
          execFileSync('stat', ['-c', '%u', path.join(wd, file)], { encoding: 'utf8' }).trim(),
          String(hostUidOf(profile)),
        );
      }
      // the workdir's directories are sticky and world-writable, as upstream makes them
      assert.is(
        execFileSync('stat', ['-c', '%a', path.join(wd, 'tmp')], { encoding: 'utf8' }).trim(),
        '1777',
      );
      show(profile, runtime, 'home tmpfs, workdir, scratch, nested binds, --mount');
    });

    test(`${tag} --home src:dst, binds over /tmp, /var/tmp and home, --no-home, --cwd`, async () => {
      const hd = await ownedDir(profile, `home-${runtime}-${profile}`);
      await writeFile(path.join(hd, 'c'), 'home-src\n');
      const t1 = await ownedDir(profile, `t1-${runtime}-${profile}`);
      const t2 = await ownedDir(profile, `t2-${runtime}-${profile}`);
      const h2 = await ownedDir(profile, `h2-${runtime}-${profile}`);
      await writeFile(path.join(t1, 'a'), 'over-tmp\n');
      await writeFile(path.join(t2, 'b'), 'over-var-tmp\n');
      await writeFile(path.join(h2, 'h'), 'over-home\n');
      const home = homeOf(profile);
      // --pwd is --cwd
      const a = await berth(
        [
          'exec',
          '--home',
          `${hd}:/hx`,
          '--pwd',
          '/opaque',
          image.ref,
          'sh',
          '-c',
          'cat /hx/c; echo $HOME; pwd',
        ],
        o(),
      );
      assert.is(a.code, 0, a.stderr);
      assert.is(a.stdout, 'home-src\n/hx\n/opaque\n');
      // a bad value is named by its flag, whichever spelling gave it
      const rel = await berth(['exec', '--pwd', 'rel', image.ref, 'true'], o());
      assert.is(rel.code, 255, rel.stderr);
      assert.is(rel.stderr, 'berth: --cwd must be an absolute path\nhint: see berth exec --help\n');
      const b = await berth(
        [
          'exec',
          '-B',
          `${t1}:/tmp`,
          '-B',
          `${t2}:/var/tmp`,
          '-B',
          `${h2}:${home}`,
          image.ref,
          'sh',
          '-c',
          `cat /tmp/a /var/tmp/b ${home}/h`,
        ],
        o(),
      );
      assert.is(b.code, 0, b.stderr);
      assert.is(b.stdout, 'over-tmp\nover-var-tmp\nover-home\n');
      // --no-home: no mount at the home path, HOME still set (upstream's NoHome test)
      const c = await berth(
        [
          'exec',
          '--no-home',
          '--cwd',
          '/etc',
          image.ref,
          'sh',
          '-c',
          `pwd; echo $HOME; grep -q " ${home} " /proc/self/mountinfo && echo mounted || echo no-home-mount`,
        ],
        o(),
      );
      assert.is(c.code, 0, c.stderr);
      assert.is(c.stdout, `/etc\n${home}\nno-home-mount\n`);
      show(profile, runtime, '--home src:dst, binds over tmp and home, --no-home, --cwd');
    });

    test(`${tag} --no-mount proc,tmp,home; dev refused`, async () => {
      // runc cannot start a process without /proc ("error closing exec fds"): proc with crun only
      const r = await berth(
        [
          'exec',
          '--no-mount',
          runtime === 'crun' ? 'proc,tmp' : 'tmp',
          '--no-mount',
          'home,/etc/resolv.conf',
          image.ref,
          'sh',
          '-c',
          `test -e /proc/self && grep -c " ${homeOf(profile)} " /proc/self/mountinfo; test -e /proc/self || echo no-proc; stat -f -c %T /tmp; test -e /etc/resolv.conf || echo no-resolv`,
        ],
        o(),
      );
      assert.is(r.code, 0, r.stderr);
      const [first, fsType, resolv] = r.stdout.split('\n');
      assert.is(first, runtime === 'crun' ? 'no-proc' : '0', r.stdout);
      assert.ok(fsType !== undefined && fsType !== 'tmpfs', r.stdout);
      assert.is(resolv, 'no-resolv');
      for (const what of runtime === 'crun' ? ['dev', 'devpts'] : []) {
        const bad = await berth(['exec', '--no-mount', what, image.ref, 'true'], o());
        assert.is(bad.code, 255, bad.stderr);
        assert.match(bad.stderr, new RegExp(`requires /dev.* '--no-mount ${what}' was requested`));
      }
      show(profile, runtime, '--no-mount');
    });

    test(`${tag} environment: image Env, BERTHENV_/SINGULARITYENV_, --env-file, --env, PATH, LD_LIBRARY_PATH, host`, async () => {
      const dir = await ownedDir(profile, `env-${runtime}-${profile}`);
      const f1 = path.join(dir, 'one.env');
      const f2 = path.join(dir, 'two.env');
      await writeFile(f1, '# first file\nA=file1\nB=file1\nexport C="c $A"\nHOME=/ignored\n');
      await writeFile(f2, "B='file2'\n");
      const r = await berth(
        [
          'exec',
          '--env-file',
          f1,
          '--env-file',
          f2,
          '--env',
          'D=flag,APPEND_PATH=/app',
          '--env',
          'PREPEND_PATH=/pre',
          '--env',
          'LD_LIBRARY_PATH=/lib1',
          image.ref,
          'sh',
          '-c',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
          'echo "$S|$A|$B|$C|$D|$IMAGE_VAR|$TERM|$http_proxy|${SECRET-unset}|$HOME|$PATH|$LD_LIBRARY_PATH"',
        ],
        o({
          env: {
            SINGULARITYENV_S: 'sing',
            BERTHENV_A: 'berth',
            BERTHENV_IMAGE_VAR: 'prefixed',
            TERM: 'xterm-e2e',
            http_proxy: 'http://proxy:3128',
            SECRET: 'host-secret',
          },
        }),
      );
      assert.is(r.code, 0, r.stderr);
      assert.is(
        r.stdout,
        `sing|file1|file2|c file1|flag|prefixed|xterm-e2e|http://proxy:3128|unset|${homeOf(profile)}|/pre:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/app|/lib1:/.singularity.d/libs\n`,
      );
      // default LD_LIBRARY_PATH, and an env file that runs a command is refused
      if (runtime === 'runc') return show(profile, runtime, 'environment priorities');
      await writeFile(f2, 'X=$(id -u)\n');
      const bad = await berth(['exec', '--env-file', f2, image.ref, 'true'], o());
      assert.is(bad.code, 255, bad.stderr);
      assert.match(bad.stderr, /execution is disabled/);
      show(profile, runtime, 'environment priorities');
    });

    test(`${tag} identity: passwd and group entries; image USER by name and uid; unknown USER`, async () => {
      const r = await berth(
        [
          'exec',
          image.ref,
          'sh',
          '-c',
          'id -u; awk -F: -v u=$(id -u) \'$3==u{print $1":"$6}\' /etc/passwd; tail -n 1 /etc/group',
        ],
        o(),
      );
      assert.is(r.code, 0, r.stderr);
      const gid = profile === 'user' ? user.gid : 0;
      const groupName =
        profile === 'user'
          ? execFileSync('id', ['-gn', user.name], { encoding: 'utf8' }).trim()
          : 'root';
      assert.is(
        r.stdout,
        `${uidOf(profile)}\n${nameOf(profile)}:${homeOf(profile)}\n${groupName}:x:${gid}:${nameOf(profile)}\n`,
      );
      // USER by name, and (crun) by uid; resolving USER does not depend on the runtime
      for (const t of runtime === 'crun' ? ['alice', 'uid'] : ['alice']) {
        const u = await berth(
          ['exec', userImage(t), 'sh', '-c', 'id -u; id -g; echo $HOME; stat -c %u /home/alice'],
          o(),
        );
        assert.is(u.code, 0, u.stderr);
        // --fakeroot overrides USER; files keep the image's owners
        assert.is(
          u.stdout,
          profile === 'fakeroot' ? '0\n0\n/root\n1234\n' : '1234\n1234\n/home/alice\n1234\n',
          t,
        );
      }
      if (runtime === 'runc') return show(profile, runtime, 'passwd, group, USER');
      const root = await berth(['exec', userImage('root'), 'id', '-u'], o());
      assert.is(root.stdout, '0\n', root.stderr);
      const unknown = await berth(['exec', userImage('unknown'), 'id', '-u'], o());
      if (profile === 'fakeroot') assert.is(unknown.stdout, '0\n', unknown.stderr);
      else {
        assert.is(unknown.code, 255, unknown.stderr);
        assert.match(unknown.stderr, /image user "bob" is not in the image's \/etc\/passwd/);
      }
      if (profile !== 'fakeroot') {
        const home = await berth(['exec', '--home', '/x', userImage('alice'), 'true'], o());
        assert.is(home.code, 255, home.stderr);
        assert.match(
          home.stderr,
          /custom --home is not currently supported when running containers that declare a USER/,
        );
      }
      show(profile, runtime, 'passwd, group, USER');
    });

    test(`${tag} --no-setgroups keeps supplementary groups with crun, and is refused with runc`, async () => {
      const r = await berth(['exec', '--no-setgroups', image.ref, 'id', '-G'], o());
      if (runtime === 'runc') {
        assert.is(r.code, 255, r.stderr);
        assert.match(r.stderr, /does not support --no-setgroups/);
      } else {
        assert.is(r.code, 0, r.stderr);
        const plain = await berth(['exec', image.ref, 'id', '-G'], o());
        if (profile === 'root') assert.is(r.stdout, plain.stdout);
        else {
          // the extra group is not mapped in the user namespace: it shows as nobody (65534)
          assert.is(plain.stdout, `${uidOf(profile) === 0 ? 0 : user.gid}\n`);
          assert.is(r.stdout, `${uidOf(profile) === 0 ? 0 : user.gid} 65534\n`);
        }
      }
      show(profile, runtime, '--no-setgroups', r.stdout.trim() || String(r.code));
    });

    test(`${tag} network and naming: --net --network none, --hostname, --uts, --dns, resolv.conf`, async () => {
      const r = await berth(
        [
          'exec',
          '--net',
          '--network',
          'none',
          '--hostname',
          'whats-in-an-oci-name',
          '--dns',
          '1.1.1.1, 2001:db8::1',
          image.ref,
          'sh',
          '-c',
          'hostname; grep -c : /proc/net/dev; cat /etc/resolv.conf',
        ],
        o(),
      );
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, 'whats-in-an-oci-name\n1\nnameserver 1.1.1.1\nnameserver 2001:db8::1\n');
      const hostUts = execFileSync('readlink', ['/proc/self/ns/uts'], { encoding: 'utf8' });
      // --uts alone: a new UTS namespace holding the host's name; the host network and, by
      // default, a copy of the host's resolv.conf
      const uts = await berth(
        [
          'exec',
          '--uts',
          image.ref,
          'sh',
          '-c',
          'readlink /proc/self/ns/uts; hostname; grep -c : /proc/net/dev; cat /etc/resolv.conf',
        ],
        o(),
      );
      assert.is(uts.code, 0, uts.stderr);
      const hostNet = (await readFile('/proc/net/dev', 'utf8'))
        .split('\n')
        .filter((l) => l.includes(':')).length;
      assert.ok(hostNet > 1, 'the host has more than a loopback interface');
      assert.is(
        uts.stdout,
        `${uts.stdout.split('\n')[0]}\n${execFileSync('hostname', { encoding: 'utf8' }).trim()}\n${hostNet}\n${await readFile('/etc/resolv.conf', 'utf8')}`,
      );
      assert.is.not(uts.stdout.split('\n')[0], hostUts.trim());
      for (const [args, message] of runtime === 'runc'
        ? []
        : ([
            [['--net'], /not supported by OCI launcher: Network \(except none\)/],
            [
              ['--net', '--network', 'bridge'],
              /not supported by OCI launcher: Network \(except none\)/,
            ],
            [['--dns', '1.2.3'], /DNS nameserver "1.2.3" is not a valid IP address/],
          ] as const)) {
        const bad = await berth(['exec', ...args, image.ref, 'true'], o());
        assert.is(bad.code, 255, args.join(' '));
        assert.match(bad.stderr, message);
      }
      show(profile, runtime, 'network none, hostname, uts, dns');
    });

    test(`${tag} namespaces and privileges: --no-pid, --userns, capabilities, --no-privs, --keep-privs`, async () => {
      // each run prints: its pid, /proc/1's command, its user namespace, the /tmp filesystem,
      // then its capabilities
      const run = (extra: string[]) =>
        berth(
          [
            'exec',
            ...extra,
            image.ref,
            'sh',
            '-c',
            "echo $$; cat /proc/1/comm; readlink /proc/self/ns/user; stat -f -c %T /tmp; grep -E '^(CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status | tr -d '\\t' | tr '\\n' ' '",
          ],
          o(),
        );
      const hostUserns = execFileSync('readlink', ['/proc/self/ns/user'], {
        encoding: 'utf8',
      }).trim();
      const root = uidOf(profile) === 0;
      const caps = (eff: string, bnd: string, amb = '0000000000000000', nnp = 0) =>
        `CapEff:${eff} CapBnd:${bnd} CapAmb:${amb} NoNewPrivs:${nnp} `;
      const lines = (r: { stdout: string }) => r.stdout.split('\n');

      // defaults: a PID namespace, a /tmp tmpfs, upstream's 15 capabilities (0x20a80425fb),
      // effective only for uid 0
      const def = await run([]);
      assert.is(def.code, 0, def.stderr);
      assert.equal(lines(def).slice(0, 2), ['1', 'sh']);
      assert.is(lines(def)[3], 'tmpfs');
      assert.is(
        lines(def)[4],
        caps(root ? '00000020a80425fb' : '0000000000000000', '00000020a80425fb'),
      );
      assert.is(lines(def)[2] === hostUserns, profile === 'root', 'user namespace only rootless');

      // --no-pid with --add-caps/--drop-caps (uid != 0: the added ones are also ambient)
      const a = await run(['--no-pid', '--add-caps', 'net_admin', '--drop-caps', 'CAP_KILL']);
      assert.is(a.code, 0, a.stderr);
      assert.is.not(lines(a)[0], '1');
      assert.is.not(lines(a)[1], 'sh');
      assert.is(
        lines(a)[4],
        root
          ? caps('00000020a80435db', '00000020a80435db')
          : caps('0000000000001000', '00000020a80435db', '0000000000001000'),
      );
      // An unknown name is refused (berth's difference from upstream's warning): nothing runs
      const bad = await run(['--add-caps', 'net_admin,not_a_cap']);
      assert.is(bad.code, 255, bad.stderr);
      assert.match(bad.stderr, /unknown capability "not_a_cap" in --add-caps/);
      assert.is.not(lines(bad)[0], '1', 'no container output');

      // --userns with --no-privs: as root a user namespace (berth maps ids one to one where
      // upstream's unmapped one fails); otherwise redundant, with upstream's information
      const b = await run(['--userns', '--no-privs']);
      assert.is(b.code, 0, b.stderr);
      assert.is.not(lines(b)[2], hostUserns);
      if (profile !== 'root') assert.match(b.stderr, /--userns is redundant/);
      assert.is(lines(b)[4], caps('0000000000000000', '0000000000000000', '0000000000000000', 1));

      // --keep-privs: as root the caller's own set; in the user namespace every capability
      const keep = await run(['--keep-privs']);
      const own = /^CapEff:\s*(\w+)/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1];
      const full = profile === 'root' ? (own as string) : '000001ffffffffff';
      assert.is(
        lines(keep)[4],
        root ? caps(full, full) : caps('0000000000000000', full),
        keep.stderr,
      );
      show(profile, runtime, 'pid, userns, capabilities');
    });

    test(`${tag} --allow-setuid leaves nosuid off binds`, async () => {
      const d = await ownedDir(profile, `suid-${runtime}-${profile}`);
      const check = (p: string) =>
        `grep ' ${p} ' /proc/self/mountinfo | grep -q nosuid && echo nosuid || echo suid`;
      const script = `${check('/mnt')}; ${check(homeOf(profile))}; ${check('/s')}`;
      const args = ['-B', `${d}:/mnt`, '-S', '/s', image.ref, 'sh', '-c', script];
      const without = await berth(['exec', ...args], o());
      const withIt = await berth(['exec', '--allow-setuid', ...args], o());
      // crun 1.8 drops the flags of a writable bind made in its own user namespace (the user
      // profile): that bind shows no nosuid either way
      const bind = runtime === 'crun' && profile === 'user' ? 'suid' : 'nosuid';
      assert.is(without.stdout, `${bind}\nnosuid\nnosuid\n`, without.stderr);
      assert.is(withIt.stdout, 'suid\nsuid\nsuid\n', withIt.stderr);
      show(profile, runtime, '--allow-setuid');
    });

    test(`${tag} writability: tmpfs overlay by default, --overlay DIR[:ro] (first on top), one writable`, async () => {
      const rw = await ownedDir(profile, `ov-rw-${runtime}-${profile}`);
      const ro1 = await ownedDir(profile, `ov-ro1-${runtime}-${profile}`);
      const ro2 = await ownedDir(profile, `ov-ro2-${runtime}-${profile}`);
      await writeFile(path.join(ro1, 'same'), 'ro1\n');
      await writeFile(path.join(ro2, 'same'), 'ro2\n');
      await writeFile(path.join(ro2, 'only2'), 'only-in-ro2\n');
      const a = await berth(
        [
          'exec',
          '--overlay',
          `${ro1}:ro`,
          '--overlay',
          `${ro2}:ro`,
          '--overlay',
          rw,
          image.ref,
          'sh',
          '-c',
          'cat /same /only2 /data/file; echo kept > /persist',
        ],
        o(),
      );
      assert.is(a.code, 0, a.stderr);
      assert.is(a.stdout, 'ro1\nonly-in-ro2\nhello from layer 2\n');
      assert.is(await readFile(path.join(rw, 'upper', 'persist'), 'utf8'), 'kept\n');
      const b = await berth(['exec', '--overlay', rw, image.ref, 'cat', '/persist'], o());
      assert.is(b.stdout, 'kept\n', b.stderr);
      const two = await berth(['exec', '--overlay', ro1, '--overlay', ro2, image.ref, 'true'], o());
      assert.is(two.code, 255, two.stderr);
      assert.match(two.stderr, /more than one writable overlay/);
      const missing = await berth(
        ['exec', '--overlay', path.join(work, 'nope'), image.ref, 'true'],
        o(),
      );
      assert.is(missing.code, 255, missing.stderr);
      assert.match(missing.stderr, /specified overlay ".*nope" does not exist/);
      show(profile, runtime, 'overlays');
    });

    test(`${tag} --no-compat: read-only root, host /tmp, home, cwd, /etc/hosts, umask, env, /dev`, async () => {
      const marker = `berth-e2e-nc-${runtime}-${profile}`;
      await writeFile(path.join('/tmp', marker), 'host-tmp\n');
      const hostHome = profile === 'root' ? '/root' : user.home;
      await writeFile(path.join(hostHome, `.${marker}`), 'host-home\n');
      if (profile !== 'root') await chown(path.join(hostHome, `.${marker}`), user.uid, user.gid);
      const device = ['kvm', 'fuse', 'loop-control', 'btrfs-control', 'hwrng'].find((d) =>
        existsSync(`/dev/${d}`),
      );
      try {
        const script = `pwd; umask; touch /rootfile 2>/dev/null || echo ro-root; cat /tmp/${marker} $HOME/.${marker}; echo $HOME; echo "\${SECRET-unset}"; cmp -s /etc/hosts /hosts && echo hosts; test -e /dev/${device ?? 'none'} && echo host-dev || echo min-dev`;
        const old = process.umask(0o027);
        const pending = berth(
          ['exec', '--no-compat', '-B', '/etc/hosts:/hosts', image.ref, 'sh', '-c', script],
          o({ env: { SECRET: 'host-secret' } }),
        );
        process.umask(old);
        const r = await pending;
        assert.is(r.code, 0, r.stderr);
        const devLine = runtime === 'crun' && device ? 'host-dev' : 'min-dev';
        assert.is(
          r.stdout,
          `${work}\n0027\nro-root\nhost-tmp\nhost-home\n${homeOf(profile)}\nhost-secret\nhosts\n${devLine}\n`,
        );
        if (runtime === 'runc') assert.match(r.stderr, /can only bind \/dev when using crun/);
        // --writable-tmpfs, --no-umask, --cleanenv, --no-mount cwd
        const old2 = process.umask(0o027);
        const p2 = berth(
          [
            'exec',
            '--no-compat',
            '--writable-tmpfs',
            '--no-umask',
            '--cleanenv',
            '--cwd',
            '/',
            '--no-mount',
            'cwd,tmp',
            image.ref,
            'sh',
            '-c',
            `umask; touch /rootfile && echo rw-root; echo "\${SECRET-unset}"; test -e ${work} || echo no-cwd`,
          ],
          o({ env: { SECRET: 'host-secret' } }),
        );
        process.umask(old2);
        const r2 = await p2;
        assert.is(r2.code, 0, r2.stderr);
        assert.is(r2.stdout, '0022\nrw-root\nunset\nno-cwd\n');
      } finally {
        await rm(path.join('/tmp', marker), { force: true });
        await rm(path.join(hostHome, `.${marker}`), { force: true });
      }
      show(profile, runtime, '--no-compat');
    });

    test(`${tag} CDI devices from spec files in --cdi-dirs (YAML and JSON)`, async () => {
      const cdi = await ownedDir(profile, `cdi-${runtime}-${profile}`);
      const data = await ownedDir(profile, `cdi-data-${runtime}-${profile}`);
      await writeFile(path.join(data, 'f'), 'cdi-mounted\n');
      await writeFile(
        path.join(cdi, 'berth.yaml'),
        `cdiVersion: "0.6.0"\nkind: berth.e2e/test\ncontainerEdits:\n  env: ["CDI_SPEC=spec-wide"]\ndevices:\n  - name: "null"\n    containerEdits:\n      env: ["CDI_DEV=null"]\n      deviceNodes:\n        - path: /dev/berth-null\n          hostPath: /dev/null\n      mounts:\n        - hostPath: ${data}\n          containerPath: /cdi\n          options: [rbind, ro, nosuid, nodev]\n`,
      );
      await writeFile(
        path.join(cdi, 'other.json'),
        JSON.stringify({
          cdiVersion: '0.5.0',
          kind: 'berth.e2e/json',
          devices: [
            {
              name: 'zero',
              containerEdits: { env: ['CDI_JSON=zero'], deviceNodes: [{ path: '/dev/zero' }] },
            },
          ],
        }),
      );
      const r = await berth(
        [
          'exec',
          '--cdi-dirs',
          cdi,
          '--device',
          'berth.e2e/test=null,berth.e2e/json=zero',
          image.ref,
          'sh',
          '-c',
          'echo $CDI_SPEC $CDI_DEV $CDI_JSON; cat /cdi/f; test -c /dev/berth-null && echo hi > /dev/berth-null && echo dev-ok; touch /cdi/x 2>/dev/null || echo cdi-ro',
        ],
        o(),
      );
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, 'spec-wide null zero\ncdi-mounted\ndev-ok\ncdi-ro\n');
      const unknown = await berth(
        ['exec', '--cdi-dirs', cdi, '--device', 'berth.e2e/test=nope', image.ref, 'true'],
        o(),
      );
      assert.is(unknown.code, 255, unknown.stderr);
      assert.match(unknown.stderr, /unresolvable CDI devices berth.e2e\/test=nope/);
      const invalid = await berth(['exec', '--device', 'not-qualified', image.ref, 'true'], o());
      assert.is(invalid.code, 255, invalid.stderr);
      assert.match(invalid.stderr, /string "not-qualified" does not represent a valid CDI device/);
      show(profile, runtime, 'CDI devices');
    });

    test(`${tag} cgroup limits: applied as root, a clear error rootless`, async () => {
      const toml = path.join(await ownedDir(profile, `cg-${runtime}-${profile}`), 'limits.toml');
      await writeFile(toml, '[pids]\nlimit = 44\n[memory]\nlimit = 134217728\n');
      const script =
        'p=$(grep pids: /proc/self/cgroup | cut -d: -f3); m=$(grep memory: /proc/self/cgroup | cut -d: -f3); c=$(grep "cpu:" /proc/self/cgroup | cut -d: -f3); cat /sys/fs/cgroup/pids$p/pids.max /sys/fs/cgroup/memory$m/memory.limit_in_bytes; cat /sys/fs/cgroup/cpu$c/cpu.cfs_quota_us /sys/fs/cgroup/cpu$c/cpu.shares 2>/dev/null; true';
      const flags = await berth(
        [
          'exec',
          '-B',
          '/sys/fs/cgroup',
          '--memory',
          '64M',
          '--pids-limit',
          '33',
          '--cpus',
          '0.5',
          '--cpu-shares',
          '512',
          image.ref,
          'sh',
          '-c',
          script,
        ],
        o(),
      );
      const file = await berth(
        ['exec', '-B', '/sys/fs/cgroup', '--apply-cgroups', toml, image.ref, 'sh', '-c', script],
        o(),
      );
      if (profile === 'root') {
        assert.is(flags.code, 0, flags.stderr);
        assert.is(flags.stdout, '33\n67108864\n50000\n512\n');
        assert.is(file.code, 0, file.stderr);
        assert.ok(file.stdout.startsWith('44\n134217728\n'), file.stdout);
      } else {
        for (const r of [flags, file]) {
          assert.is(r.code, 255, r.stderr);
          assert.match(r.stderr, /does not support cgroup management/);
        }
      }
      const both = await berth(
        ['exec', '--apply-cgroups', toml, '--pids-limit', '5', image.ref, 'true'],
        o(),
      );
      assert.is(both.code, 255, both.stderr);
      assert.match(both.stderr, /cannot apply a cgroups TOML file while using limit flags/);
      show(profile, runtime, 'cgroup limits', profile === 'root' ? 'applied' : 'refused');
    });

    test(`${tag} --dry-run prints a valid config.json and runs nothing`, async () => {
      const wd = await ownedDir(profile, `dry-wd-${runtime}-${profile}`);
      const ro = await ownedDir(profile, `dry-ro-${runtime}-${profile}`);
      const extra = [
        ...(runtime === 'crun' ? ['--no-setgroups'] : []),
        ...(profile === 'root' ? ['--memory', '64M', '--pids-limit', '10', '--userns'] : []),
      ];
      const a = await berth(
        [
          'exec',
          '--dry-run',
          '--hostname',
          'dry',
          '--net',
          '--network',
          'none',
          '--add-caps',
          'net_admin',
          '--no-privs',
          '-W',
          wd,
          '-S',
          '/s',
          '--overlay',
          `${ro}:ro`,
          '--env',
          'X=1',
          ...extra,
          image.ref,
          'id',
        ],
        o(),
      );
      assert.is(a.code, 0, a.stderr);
      const spec = JSON.parse(a.stdout);
      assert.is(ociErrors(spec), '', 'official schema');
      assert.is(spec.hostname, 'dry');
      assert.ok(spec.linux.namespaces.some((n: { type: string }) => n.type === 'network'));
      assert.ok(spec.linux.namespaces.some((n: { type: string }) => n.type === 'uts'));
      assert.is(spec.process.noNewPrivileges, true);
      assert.equal(spec.process.args, ['id']);
      assert.ok(spec.process.env.includes('X=1'));
      if (profile === 'root') assert.equal(spec.linux.resources.pids, { limit: 10 });
      // nothing created: no workdir directories
      assert.equal(await readdir(wd), []);
      // with --no-compat a lone --home DIR binds the host's DIR (075b0a0): one that exists
      const hx = await ownedDir(profile, `dry-home-${runtime}-${profile}`);
      const b = await berth(
        ['shell', '--dry-run', '--no-compat', '--no-pid', '--keep-privs', '--home', hx, image.ref],
        o(),
      );
      assert.is(b.code, 0, b.stderr);
      const s2 = JSON.parse(b.stdout);
      assert.is(ociErrors(s2), '', 'official schema');
      assert.is(s2.root.readonly, true);
      assert.is(typeof s2.process.user.umask, 'number');
      assert.not.ok(s2.linux.namespaces.some((n: { type: string }) => n.type === 'pid'));
      show(profile, runtime, '--dry-run');
    });
  }
}

for (const profile of PROFILES) {
  test(`[${profile}] options upstream refuses in OCI mode exit 255 naming them`, async () => {
    const cases = [
      [['--contain'], 'Contain'],
      [['-C'], 'ContainAll'],
      [['--boot'], 'Boot'],
      [['--no-init'], 'NoInit'],
      [['--compat'], 'NoInit,ContainAll'],
      [['--security', 'seccomp:x'], 'SecurityOpts'],
      [['--fusemount', 'host:x /y'], 'FuseMount'],
      [['--nvccli'], 'NvCCLI'],
      [['--netns-path', '/proc/1/ns/net'], 'NetnsPath'],
      [['--network-args', 'portmap=80:80/tcp'], 'NetworkArgs'],
      [['--sif-fuse'], 'SIFFUSE'],
      [['--pem-path', '/x.pem'], 'KeyInfo'],
      [['--contain', '--boot', '--fusemount', 'x'], 'FuseMount,Boot,Contain'],
    ] as const;
    // refusal comes before anything that depends on who runs berth: all cases once
    for (const [args, names] of profile === 'user' ? cases : cases.slice(-2)) {
      const r = await berth(['exec', ...args, image.ref, 'true'], opts(profile, 'crun'));
      assert.is(r.code, 255, args.join(' '));
      assert.ok(r.stderr.includes(`berth: not supported by OCI launcher: ${names}\n`), r.stderr);
    }
    const both = await berth(
      ['exec', '--compat', '--no-compat', image.ref, 'true'],
      opts(profile, 'crun'),
    );
    assert.is(both.code, 255, both.stderr);
    assert.match(both.stderr, /cannot use --no-compat with --compat/);
    const w = await berth(['exec', '--writable', image.ref, 'true'], opts(profile, 'crun'));
    assert.is(w.code, 255, w.stderr);
    assert.match(w.stderr, /does not contain a writable overlay/);
    console.log(`  ok [${profile}] refused options`);
  });

  test(`[${profile}] USER with /var/tmp -> /tmp: /var/tmp gets no mount of its own`, async () => {
    const r = await berth(
      [
        'exec',
        userImage('nouser'),
        'sh',
        '-c',
        'echo x > /var/tmp/f; cat /tmp/f; grep -c " /var/tmp " /proc/self/mountinfo',
      ],
      opts(profile, 'crun'),
    );
    assert.is(r.stdout, 'x\n0\n', r.stderr);
  });
}

test('dry runs left no bundle behind', async () => {
  for (const dir of ['/run/berth/bundles', path.join('/tmp', `berth-${user.uid}`, 'bundles')]) {
    const left = await readdir(dir).catch(() => [] as string[]);
    assert.not.ok(left.includes('b-dry-run'), dir);
  }
  // the extra group is still there for the no-setgroups checks of this file only
  assert.ok(extraGid > 0);
});

test.run();
