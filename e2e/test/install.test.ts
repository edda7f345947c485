/**
 * The packed CLI as users get it: every package is packed, the @berth-oci/cli tarball is
 * installed with `npm install -g` into a temporary prefix (berth's own packages come only
 * from the tarballs), and the npm bin shim `<prefix>/bin/berth` runs containers as root and
 * as the unprivileged user, with berth's own `--env-file` left to berth; its man pages and
 * bash completion work. And a library alone: `@berth-oci/image-extract` installed from its
 * tarball (with the tarballs of its internal dependencies) into a clean project unpacks an
 * image from a consumer script.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  berth,
  ensureUser,
  type Profile,
  REPO,
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
let bin: string;
let packs: string;
let prefix: string;
const opts = (profile: Profile): RunOptions => ({
  profile,
  runtime: 'crun',
  user,
  cacheDir: path.join(work, `cache-${profile}`),
  bin,
});

test.before(async () => {
  user = ensureUser();
  work = await workDir('berth-e2e-install-');
  packs = path.join(work, 'packs');
  for (const name of await readdir(path.join(REPO, 'packages'))) {
    execFileSync('pnpm', ['pack', '--pack-destination', packs], {
      cwd: path.join(REPO, 'packages', name),
      stdio: 'ignore',
    });
  }
  const tarballs = await readdir(packs);
  const cli = tarballs.find((f) => f.startsWith('berth-oci-cli-'));
  assert.ok(cli, `no CLI tarball among ${tarballs.join(', ')}`);
  prefix = path.join(work, 'prefix');
  // Only the native socket module may come from the npm cache or registry: the CLI tarball
  // declares no berth package, so none of ours can be fetched from there.
  execFileSync(
    'npm',
    ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund'].concat(
      path.join(packs, cli),
    ),
    { stdio: 'ignore', env: { ...process.env, npm_config_update_notifier: 'false' } },
  );
  bin = path.join(prefix, 'bin', 'berth');
  image = await buildDemoImage(path.join(work, 'layout'));
  await mkdir(path.join(work, 'cache-root'), { mode: 0o700 });
  await mkdir(path.join(work, 'cache-user'), { mode: 0o700 });
  await chown(path.join(work, 'cache-user'), user.uid, user.gid);
});

test.after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('the installed CLI holds only its bundle and the native socket module', async () => {
  const modules = path.join(work, 'prefix', 'lib', 'node_modules', '@berth-oci', 'cli');
  const deps = (await readdir(path.join(modules, 'node_modules'))).filter(
    (d) => !d.startsWith('.'),
  );
  assert.ok(
    deps.every((d) => d.startsWith('node-unix-socket')),
    deps.join(', '),
  );
});

for (const profile of ['root', 'user'] as const) {
  test(`${profile}: the installed berth prints its version`, async () => {
    const r = await berth(['--version'], opts(profile));
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  test(`${profile}: the installed berth runs a container`, async () => {
    const ok = await berth(['exec', image.ref, '/bin/true'], opts(profile));
    assert.is(ok.code, 0, ok.stderr);
    const echo = await berth(['exec', image.ref, 'echo', 'hello', 'installed'], opts(profile));
    assert.is(echo.code, 0, echo.stderr);
    assert.is(echo.stdout, 'hello installed\n');
    const fail = await berth(['exec', image.ref, '/bin/sh', '-c', 'exit 7'], opts(profile));
    assert.is(fail.code, 7, fail.stderr);
  });

  test(`${profile}: --env-file reaches berth through the installed bin, not node`, async () => {
    const file = path.join(work, 'vars.env');
    await writeFile(file, 'GREETING=from-env-file\n', { mode: 0o644 });
    const r = await berth(
      ['exec', '--env-file', file, image.ref, '/bin/sh', '-c', 'echo $GREETING'],
      opts(profile),
    );
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'from-env-file\n');
    // Node 20 would read the option itself and exit 9 with "node: FILE: not found"
    const missing = path.join(work, 'missing.env');
    const m = await berth(['exec', '--env-file', missing, image.ref, '/bin/true'], opts(profile));
    assert.is(m.code, 255, m.stderr);
    assert.match(m.stderr, /^berth: could not read environment file/);
  });
}

test("man berth-exec renders the installed page, which names the option table's flags", () => {
  const manDir = path.join(prefix, 'share', 'man');
  // npm install -g links each page of package.json `man` into <prefix>/share/man/man1
  for (const page of ['berth', 'berth-exec', 'berth-run', 'berth-oci', 'berth-pull']) {
    assert.ok(existsSync(path.join(manDir, 'man1', `${page}.1`)), `${page}.1 is not linked`);
  }
  const env = { ...process.env, LC_ALL: 'C', MANPAGER: 'cat', MANWIDTH: '100' };
  const page = execFileSync('man', ['-M', manDir, 'berth-exec'], { encoding: 'utf8', env });
  assert.match(page, /^NAME\n\s+berth-exec - run a command in a container of the image$/m);
  assert.match(page, /-B, --bind VALUE/);
  assert.match(page, /--fakeroot/);
  const root = execFileSync('man', ['-M', manDir, 'berth'], { encoding: 'utf8', env });
  assert.match(root, /berth-completion\(1\)/);
});

test('the installed berth completion bash completes commands, flags and values', () => {
  const words = (line: string) =>
    `COMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _berth; echo "\${COMPREPLY[*]}"`;
  const script = [
    'source <(berth completion bash)',
    'complete -p berth',
    words('berth ex'),
    words('berth exec --bi'),
    words("berth exec --runtime ''"),
    words('berth oci cr'),
  ].join('\n');
  const out = execFileSync('bash', ['-c', script], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${path.join(prefix, 'bin')}:${process.env.PATH}` },
  });
  assert.equal(out.split('\n'), [
    'complete -o bashdefault -o default -F _berth berth',
    'exec',
    '--bind',
    'crun runc',
    'create',
    '',
  ]);
});

test('@berth-oci/image-extract installed alone from its tarballs unpacks an image', async () => {
  const project = path.join(work, 'consumer');
  await mkdir(project);
  await writeFile(
    path.join(project, 'package.json'),
    `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`,
  );
  const tarballs = await readdir(packs);
  const own = ['image-extract', 'errors', 'lock'].map((n) => {
    const t = tarballs.find((f) => f.startsWith(`berth-oci-${n}-`));
    assert.ok(t, `no ${n} tarball among ${tarballs.join(', ')}`);
    return path.join(packs, t);
  });
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...own], {
    cwd: project,
    stdio: 'ignore',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  const installed = await readdir(path.join(project, 'node_modules', '@berth-oci'));
  assert.equal(installed.sort(), ['errors', 'image-extract', 'lock']);
  await writeFile(
    path.join(project, 'unpack.mjs'),
    [
      "import { resolveImage, unpackImageAtomic } from '@berth-oci/image-extract';",
      'const [ref, dest] = process.argv.slice(2);',
      'const image = await resolveImage(ref);',
      'await unpackImageAtomic(image, dest);',
      'console.log(image.manifestDigest);',
    ].join('\n'),
  );
  const dest = path.join(work, 'consumer-rootfs');
  const out = execFileSync('node', ['unpack.mjs', image.ref, dest], {
    cwd: project,
    encoding: 'utf8',
  });
  assert.is(out, `${image.manifestDigest}\n`);
  assert.ok(existsSync(path.join(dest, 'bin')), 'no /bin in the unpacked rootfs');
  assert.ok((await readdir(path.join(dest, 'etc'))).includes('passwd'));
});

test.run();
