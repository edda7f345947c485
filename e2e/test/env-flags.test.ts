/**
 * Flags from the environment (issue 12): BERTH_<FLAG>, APPTAINER_<NAME> and SINGULARITY_<NAME>
 * set run/exec/shell options; BERTH_ wins over APPTAINER_, which wins over SINGULARITY_; the
 * command line wins, but bind variables add to --bind, as upstream; a malformed value exits
 * 255 naming its variable. As root, as the unprivileged user and as that user with
 * --fakeroot, on crun (and the precedence case on runc too).
 */
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  berth,
  ensureUser,
  PROFILES,
  type Profile,
  type RunOptions,
  type RuntimeName,
  requireRoot,
  type User,
  workDir,
} from '../src/harness.js';
import { buildTestImage, type TestImage } from '../src/images.js';

requireRoot();

let user: User;
let work: string;
let image: TestImage;
/** Host files whose content names them, each in its own directory: `src(name)`. */
const src = (name: string) => path.join(work, 'src', name);

const opts = (profile: Profile, runtime: RuntimeName, env: Record<string, string>): RunOptions => ({
  profile,
  runtime,
  user,
  cacheDir: path.join(work, `cache-${profile === 'root' ? 'root' : 'user'}`),
  env,
});

test.before(async () => {
  user = ensureUser();
  work = await workDir('berth-e2e-envflags-');
  image = await buildTestImage(path.join(work, 'layout'), 'test');
  for (const name of ['berth', 'apptainer', 'singularity', 'bindpath', 'cli']) {
    await mkdir(src(name), { recursive: true });
    await writeFile(path.join(src(name), 'who'), `${name}\n`);
  }
  await mkdir(path.join(work, 'cache-root'), { mode: 0o700 });
  await mkdir(path.join(work, 'cache-user'), { mode: 0o700 });
  await chown(path.join(work, 'cache-user'), user.uid, user.gid);
});

test.after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** `berth exec IMAGE sh -c SCRIPT` with `env`, its stdout; it must succeed. */
async function exec(
  profile: Profile,
  runtime: RuntimeName,
  env: Record<string, string>,
  script: string,
  flags: string[] = [],
): Promise<string> {
  const r = await berth(
    ['exec', ...flags, image.ref, 'sh', '-c', script],
    opts(profile, runtime, env),
  );
  assert.is(r.code, 0, `${JSON.stringify(env)} ${script}: ${r.stderr}`);
  return r.stdout;
}

const bind = (name: string) => `${src(name)}:/mnt/b`;

for (const runtime of ['crun', 'runc'] as const) {
  for (const profile of runtime === 'crun' ? PROFILES : (['user'] as Profile[])) {
    const tag = `[${runtime}/${profile}]`;

    test(`${tag} BERTH_BIND > APPTAINER_BIND > SINGULARITY_BIND; SINGULARITY_BINDPATH alone binds`, async () => {
      const who = 'cat /mnt/b/who';
      const all = {
        BERTH_BIND: bind('berth'),
        APPTAINER_BIND: bind('apptainer'),
        SINGULARITY_BIND: bind('singularity'),
      };
      assert.is(await exec(profile, runtime, all, who), 'berth\n');
      const { BERTH_BIND, ...upstream } = all;
      assert.is(await exec(profile, runtime, upstream, who), 'apptainer\n');
      assert.is(
        await exec(profile, runtime, { SINGULARITY_BIND: bind('singularity') }, who),
        'singularity\n',
      );
      assert.is(
        await exec(profile, runtime, { SINGULARITY_BINDPATH: bind('bindpath') }, who),
        'bindpath\n',
      );
    });
  }
}

for (const profile of PROFILES) {
  const runtime = 'crun' as const;
  const tag = `[${runtime}/${profile}]`;

  test(`${tag} SINGULARITY_HOSTNAME, BERTH_NO_HOME=1, a comma list in BERTH_BIND, APPTAINERENV_`, async () => {
    const out = await exec(
      profile,
      runtime,
      {
        SINGULARITY_HOSTNAME: 'from-env',
        BERTH_NO_HOME: '1',
        BERTH_BIND: `${src('berth')}:/mnt/one, ${src('cli')}:/mnt/two:ro`,
        APPTAINERENV_GREETING: 'hello',
      },
      'hostname; grep -c " $HOME " /proc/mounts; cat /mnt/one/who /mnt/two/who; echo $GREETING',
    );
    // no home mount: HOME is still set, but nothing is mounted there
    assert.is(out, 'from-env\n0\nberth\ncli\nhello\n');
  });

  test(`${tag} the command line beats the environment; --bind and BERTH_BIND both bind`, async () => {
    const out = await exec(
      profile,
      runtime,
      { BERTH_HOSTNAME: 'from-env', BERTH_BIND: `${src('berth')}:/mnt/env` },
      'hostname; cat /mnt/env/who /mnt/cli/who',
      ['--hostname', 'from-cli', '--bind', `${src('cli')}:/mnt/cli`],
    );
    assert.is(out, 'from-cli\nberth\ncli\n');
  });

  test(`${tag} a malformed value exits 255 naming the variable; --dry-run says where settings came from`, async () => {
    for (const [name, value] of [
      ['BERTH_NO_HOME', 'maybe'],
      ['SINGULARITY_UTS', '2'], // (not FAKEROOT: the fakeroot profile gives --fakeroot, which wins)
    ] as const) {
      const r = await berth(['exec', image.ref, 'true'], opts(profile, runtime, { [name]: value }));
      assert.is(r.code, 255, r.stderr);
      assert.ok(
        r.stderr.startsWith(
          `berth: ${name} must be one of 1, 0, true, false, yes, no, got "${value}"\nhint: `,
        ),
        r.stderr,
      );
    }
    const r = await berth(
      ['exec', '--dry-run', '--hostname', 'h', image.ref, 'true'],
      opts(profile, runtime, { APPTAINER_NO_HOME: 'yes' }),
    );
    assert.is(r.code, 0, r.stderr);
    assert.ok(
      r.stderr.includes('berth: setting: --hostname "h" from the command line\n'),
      r.stderr,
    );
    assert.ok(r.stderr.includes('berth: setting: --no-home "yes" from $APPTAINER_NO_HOME\n'));
    assert.ok(r.stderr.includes('berth: setting: every other option has its default\n'));
    assert.is(JSON.parse(r.stdout).hostname, 'h');
  });
}

test('[crun/user] BERTH_FAKEROOT=true runs as root in the container, BERTH_FAKEROOT=false does not', async () => {
  assert.is(await exec('user', 'crun', { BERTH_FAKEROOT: 'true' }, 'id -u'), '0\n');
  assert.is(await exec('user', 'crun', { BERTH_FAKEROOT: 'false' }, 'id -u'), `${user.uid}\n`);
  assert.is(await exec('user', 'crun', { SINGULARITY_FAKEROOT: 'yes' }, 'id -u'), '0\n');
});

test.run();
