/**
 * The site configuration (issue 12): a real /etc/berth/berth.conf, written for each case and
 * removed (or the host's own restored) afterwards, even when the case fails. As root, as the
 * unprivileged user and as that user with --fakeroot, on crun; the refusals on runc too.
 */
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  berth,
  ensureUser,
  PROFILES,
  type Profile,
  type Result,
  type RunOptions,
  type RuntimeName,
  requireRoot,
  type User,
  workDir,
} from '../src/harness.js';
import { buildTestImage, type TestImage } from '../src/images.js';

requireRoot();

const DIR = '/etc/berth';
const FILE = `${DIR}/berth.conf`;

let user: User;
let work: string;
let image: TestImage;
/** The host's own site file, put back after each case; whether /etc/berth was there. */
let original: { text: Buffer; mode: number; uid: number; gid: number } | undefined;
let hadDir = false;

const opts = (profile: Profile, runtime: RuntimeName): RunOptions => ({
  profile,
  runtime,
  user,
  cacheDir: path.join(work, `cache-${profile === 'root' ? 'root' : 'user'}`),
});

async function restore(): Promise<void> {
  if (original) {
    await writeFile(FILE, original.text);
    await chown(FILE, original.uid, original.gid);
    await chmod(FILE, original.mode);
  } else {
    await rm(FILE, { force: true });
    if (!hadDir) await rm(DIR, { recursive: true, force: true });
  }
}

/** Runs `fn` with `text` as the site configuration (root's, mode 0644), then restores the host's. */
async function withSite<T>(text: string, fn: () => Promise<T>): Promise<T> {
  try {
    await mkdir(DIR, { recursive: true, mode: 0o755 });
    await writeFile(FILE, text, { mode: 0o644 });
    await chmod(FILE, 0o644);
    await chown(FILE, 0, 0);
    return await fn();
  } finally {
    await restore();
  }
}

test.before(async () => {
  user = ensureUser();
  work = await workDir('berth-e2e-site-');
  image = await buildTestImage(path.join(work, 'layout'), 'test');
  await mkdir(path.join(work, 'shared'));
  await writeFile(path.join(work, 'shared', 'data'), 'site data\n');
  await mkdir(path.join(work, 'mine'));
  await writeFile(path.join(work, 'mine', 'data'), 'my data\n');
  await mkdir(path.join(work, 'cache-root'), { mode: 0o700 });
  await mkdir(path.join(work, 'cache-user'), { mode: 0o700 });
  await chown(path.join(work, 'cache-user'), user.uid, user.gid);
  hadDir = existsSync(DIR);
  if (existsSync(FILE)) {
    const st = await stat(FILE);
    original = { text: await readFile(FILE), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  }
});

test.after(async () => {
  await restore();
  if (work) await rm(work, { recursive: true, force: true });
});

const exec = (profile: Profile, runtime: RuntimeName, args: string[]): Promise<Result> =>
  berth(
    ['exec', ...args.slice(0, -1), image.ref, 'sh', '-c', args.at(-1) as string],
    opts(profile, runtime),
  );

/** Asserts a launch refused with 255 and `berth: MESSAGE` first on stderr. */
function refused(r: Result, message: string | RegExp): void {
  assert.is(r.code, 255, r.stderr);
  const first = r.stderr.split('\n')[0] ?? '';
  if (typeof message === 'string') assert.is(first, `berth: ${message}`);
  else assert.match(first, message);
}

for (const profile of PROFILES) {
  const runtime = 'crun' as const;
  const tag = `[${runtime}/${profile}]`;
  const homeOf = () => (profile === 'user' ? user.home : '/root');

  test(`${tag} bind path entries bind in every container (ro kept; a missing source warns)`, async () => {
    await withSite(
      [
        '# the site',
        `bind path = ${work}/shared:/site:ro`,
        'bind path = /nonexistent/berth-site',
        '',
      ].join('\n'),
      async () => {
        const r = await exec(profile, runtime, [
          'cat /site/data; touch /site/x 2>/dev/null || echo read-only',
        ]);
        assert.is(r.code, 0, r.stderr);
        assert.is(r.stdout, 'site data\nread-only\n');
        assert.ok(
          r.stderr.includes(
            `berth: warning: site bind path "/nonexistent/berth-site" (${FILE}): source /nonexistent/berth-site does not exist, skipping it\n`,
          ),
          r.stderr,
        );
        // --no-mount of its destination leaves it out, and is no "not supported" warning
        const n = await exec(profile, runtime, [
          '--no-mount',
          '/site',
          'test -e /site/data || echo gone',
        ]);
        assert.is(n.stdout, 'gone\n', n.stderr);
        assert.not.match(n.stderr, /not supported/);
      },
    );
  });

  test(`${tag} mount home/tmp = no, config passwd/resolv_conf = no leave those out`, async () => {
    const script = `grep -c -e " ${homeOf()} " -e " /tmp " -e " /etc/resolv.conf " -e " /etc/passwd " /proc/mounts`;
    const before = await exec(profile, runtime, [script]);
    assert.is(before.stdout, '4\n', `without a site file: ${before.stdout}${before.stderr}`);
    await withSite(
      'mount home = no\nmount tmp = no\nconfig passwd = no\nconfig resolv_conf = no\n',
      async () => {
        const r = await exec(profile, runtime, [script]);
        assert.is(r.stdout, '0\n', r.stderr);
      },
    );
  });

  test(`${tag} user bind control = no refuses --bind, --mount, --home SRC:DST and BERTH_BIND`, async () => {
    await withSite(`user bind control = no\nbind path = ${work}/shared:/site\n`, async () => {
      const setting = `"user bind control = no" in ${FILE} line 1`;
      const mine = `${work}/mine:/mine`;
      refused(
        await exec(profile, runtime, ['-B', mine, 'true']),
        `user binds are disabled by ${setting}: --bind ${mine} is refused`,
      );
      refused(
        await exec(profile, runtime, ['--mount', `type=bind,src=${work}/mine,dst=/mine`, 'true']),
        /user binds are disabled by .*: --mount type=bind/,
      );
      refused(
        await exec(profile, runtime, ['--home', `${work}/mine:/home/x`, 'true']),
        /user binds are disabled by .*: --home /,
      );
      const env = await berth(['exec', image.ref, 'true'], {
        ...opts(profile, runtime),
        env: { BERTH_BIND: mine },
      });
      refused(env, /user binds are disabled by .*: --bind /);
      // the site's own binds stay, and a --home DST (a tmpfs) is no bind
      const ok = await exec(profile, runtime, ['--home', '/home/x', 'cat /site/data']);
      assert.is(ok.code, 0, ok.stderr);
      assert.is(ok.stdout, 'site data\n');
    });
  });

  test(`${tag} --dry-run names the site's directives`, async () => {
    await withSite('mount tmp = no\n', async () => {
      const r = await berth(['exec', '--dry-run', image.ref, 'true'], opts(profile, runtime));
      assert.is(r.code, 0, r.stderr);
      assert.ok(
        r.stderr.includes(
          `berth: setting: mount tmp = no (${FILE} line 1) from the site configuration\n`,
        ),
        r.stderr,
      );
      const spec = JSON.parse(r.stdout) as { mounts: { destination: string }[] };
      assert.not.ok(spec.mounts.some((m) => m.destination === '/tmp'));
    });
    // --no-compat binds the host's /dev on crun, but not under mount dev = minimal
    const devOf = async () => {
      const r = await berth(
        ['exec', '--dry-run', '--no-compat', image.ref, 'true'],
        opts(profile, runtime),
      );
      assert.is(r.code, 0, r.stderr);
      const spec = JSON.parse(r.stdout) as { mounts: { destination: string; type?: string }[] };
      return spec.mounts.find((m) => m.destination === '/dev')?.type;
    };
    assert.is(await devOf(), 'bind');
    await withSite('mount dev = minimal\n', async () => assert.is(await devOf(), 'tmpfs'));
  });
}

for (const runtime of ['crun', 'runc'] as const) {
  for (const profile of runtime === 'crun' ? PROFILES : (['user'] as Profile[])) {
    const tag = `[${runtime}/${profile}]`;

    test(`${tag} refusals: mount dev/devpts = no, a malformed line, a file not root's or writable by others`, async () => {
      const ok = ['true'];
      await withSite('# dev\nmount dev = no\n', async () => {
        refused(
          await exec(profile, runtime, ok),
          `a container needs /dev mounted, but "mount dev = no" in ${FILE} line 2`,
        );
      });
      await withSite('mount devpts = no\n', async () => {
        refused(
          await exec(profile, runtime, ok),
          /needs \/dev\/pts mounted, but "mount devpts = no"/,
        );
      });
      await withSite('mount home = no\nthis is not a directive\n', async () => {
        refused(
          await exec(profile, runtime, ok),
          `${FILE} line 2: expected "directive = value", got "this is not a directive"`,
        );
      });
      await withSite('mount sys = yes\n', async () => {
        await chmod(FILE, 0o666);
        refused(
          await exec(profile, runtime, ok),
          `site configuration ${FILE} is writable by its group (mode 666); refusing to launch with it`,
        );
        await chmod(FILE, 0o644);
        await chown(FILE, user.uid, user.gid);
        refused(
          await exec(profile, runtime, ok),
          new RegExp(`site configuration ${FILE} is owned by uid ${user.uid}, not root`),
        );
        await chown(FILE, 0, 0);
        await chmod(DIR, 0o757);
        refused(
          await exec(profile, runtime, ok),
          new RegExp(`the directory ${DIR} of ${FILE} is writable by others`),
        );
        await chmod(DIR, 0o755);
        const r = await exec(profile, runtime, ok);
        assert.is(r.code, 0, r.stderr);
      });
      if (runtime === 'runc') {
        await withSite('mount proc = no\n', async () => {
          refused(
            await exec(profile, runtime, ok),
            /needs \/proc in the container, but "mount proc = no"/,
          );
        });
      }
    });
  }
}

test('[crun] an unknown directive warns once; --site-config is root only', async () => {
  await withSite('frobnicate = yes\nfrobnicate = no\n', async () => {
    const r = await exec('user', 'crun', ['true']);
    assert.is(r.code, 0, r.stderr);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('frobnicate'));
    assert.equal(warnings, [
      `berth: warning: ${FILE} line 1: unknown directive "frobnicate", ignoring it`,
    ]);
  });
  const other = path.join(work, 'other.conf');
  await writeFile(other, `bind path = ${work}/shared:/other\n`, { mode: 0o644 });
  const asUser = await exec('user', 'crun', ['--site-config', other, 'true']);
  refused(
    asUser,
    /^berth: only root may use another site configuration than \/etc\/berth\/berth.conf/,
  );
  const asRoot = await exec('root', 'crun', ['--site-config', other, 'cat /other/data']);
  assert.is(asRoot.code, 0, asRoot.stderr);
  assert.is(asRoot.stdout, 'site data\n');
});

test.run();
