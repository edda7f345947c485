/**
 * Images: docker:// from a real registry on loopback (anonymous and with htpasswd credentials;
 * by tag, by digest, from a multi-platform index; gzip and zstd layers), oci-archive: and
 * docker-archive: images, the shared cache (a warm launch unpacks nothing, parallel first
 * launches unpack once, a killed unpack is recovered), --disable-cache, berth pull and
 * berth cache — as root and as the unprivileged user.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  berth,
  ensureUser,
  freshCache as freshCacheIn,
  type Profile,
  type RunOptions,
  requireRoot,
  startBerth,
  type User,
  waitFor,
  workDir,
} from '../src/harness.js';
import { buildTestImage, type TestImage } from '../src/images.js';
import {
  addManyFilesImage,
  addPlatformIndex,
  addZstdImage,
  HOST_ARCH,
  type Registry,
  skopeoCopy,
  startRegistry,
  writeHtpasswd,
} from '../src/registry.js';

requireRoot();

const PROFILES_HERE: Profile[] = ['root', 'user'];
const USERNAME = 'berth';
const PASSWORD = 'pw-e2e-0123';
/** What the test image's third layer holds (the proof a run used the right image). */
const MOTD = 'layer 3 is uncompressed\n';

let user: User;
let work: string;
let image: TestImage;
let anon: Registry;
let secured: Registry;
let pushedDigest: string;
let ociArchive: string;
let dockerArchive: string;

const freshCache = (profile: Profile) => freshCacheIn(work, profile, user);

const sharedCache: Record<string, string> = {};
async function opts(profile: Profile, extra: Partial<RunOptions> = {}): Promise<RunOptions> {
  sharedCache[profile] ??= await freshCache(profile);
  return {
    profile,
    runtime: 'crun',
    user,
    cacheDir: sharedCache[profile] as string,
    timeout: 120_000,
    ...extra,
  };
}

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;
const UNPACKED = /^berth: unpacked layer /gm;
const DOWNLOADED = /^berth: downloaded layer /gm;

/** The rootfs trees of a cache, and its temporary trees. */
async function trees(cacheDir: string): Promise<{ done: string[]; tmp: string[] }> {
  const names = await readdir(path.join(cacheDir, 'rootfs')).catch(() => [] as string[]);
  return {
    done: names.filter((n) => !n.includes('.tmp-') && !n.endsWith('.json')),
    tmp: names.filter((n) => n.includes('.tmp-') && !n.includes('.json')),
  };
}

test.before(async () => {
  user = ensureUser();
  work = await workDir('berth-e2e-images-');
  const layout = path.join(work, 'layout');
  image = await buildTestImage(layout, 'test');
  await addPlatformIndex(layout, 'test', 'multi');
  await addZstdImage(layout, 'test', 'zstd');
  await addManyFilesImage(layout, 'test', 'many', 40_000);
  await chmod(work, 0o755);

  anon = await startRegistry(path.join(work, 'registry-anon'));
  const htpasswd = path.join(work, 'htpasswd');
  await writeHtpasswd(htpasswd, USERNAME, PASSWORD);
  secured = await startRegistry(path.join(work, 'registry-auth'), htpasswd);

  await skopeoCopy(`oci:${layout}:test`, `docker://${anon.host}/berth/test:v1`);
  await skopeoCopy(`oci:${layout}:multi`, `docker://${anon.host}/berth/multi:latest`, ['--all']);
  await skopeoCopy(`oci:${layout}:zstd`, `docker://${anon.host}/berth/zstd:v1`);
  await skopeoCopy(`oci:${layout}:test`, `docker://${secured.host}/private/test:v1`, [
    `--dest-creds=${USERNAME}:${PASSWORD}`,
  ]);
  const res = await fetch(`http://${anon.host}/v2/berth/test/manifests/v1`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  pushedDigest = res.headers.get('docker-content-digest') as string;
  await res.body?.cancel();

  ociArchive = path.join(work, 'test-oci.tar');
  dockerArchive = path.join(work, 'test-docker.tar');
  await skopeoCopy(`oci:${layout}:test`, `oci-archive:${ociArchive}:v1`);
  await skopeoCopy(`oci:${layout}:test`, `docker-archive:${dockerArchive}:berth/test:v1`);
  for (const f of [ociArchive, dockerArchive]) await chmod(f, 0o644);
  console.log(
    `e2e: registries ${anon.host} (anonymous) and ${secured.host} (htpasswd); test image ${pushedDigest}`,
  );
});

test.after(async () => {
  await anon?.stop();
  await secured?.stop();
  // The user's caches hold files of its subuids: removed as root with the work directory.
  if (work)
    await import('node:fs/promises').then((fs) => fs.rm(work, { recursive: true, force: true }));
});

function show(profile: Profile, what: string, detail = ''): void {
  console.log(`  ok [${profile}] ${what}${detail ? ` -> ${detail}` : ''}`);
}

for (const profile of PROFILES_HERE) {
  const tag = `[${profile}]`;

  test(`${tag} pull by tag: one line per layer, the digest on stdout; then a run downloads and unpacks nothing`, async () => {
    const o = await opts(profile, { cacheDir: await freshCache(profile) });
    const ref = `docker://${anon.host}/berth/test:v1`;
    const p = await berth(['pull', '--no-https', ref], o);
    assert.is(p.code, 0, p.stderr);
    assert.is(p.stdout, `${pushedDigest}\n`);
    assert.is(count(p.stderr, DOWNLOADED), 3, p.stderr);
    assert.is(count(p.stderr, UNPACKED), 3, p.stderr);
    const r = await berth(
      ['exec', '--no-https', ref, 'sh', '-c', 'cat /etc/motd; stat -c %u /owned/root'],
      o,
    );
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, `${MOTD}0\n`);
    assert.is(count(r.stderr, DOWNLOADED) + count(r.stderr, UNPACKED), 0, r.stderr);
    const q = await berth(
      ['pull', '--quiet', '--no-https', ref],
      await opts(profile, { cacheDir: await freshCache(profile) }),
    );
    assert.is(q.code, 0, q.stderr);
    assert.is(q.stderr, '', '--quiet prints nothing but the digest');
    assert.is(q.stdout, `${pushedDigest}\n`);
    show(profile, 'pull then run', pushedDigest.slice(0, 19));
  });

  test(`${tag} docker:// by digest, and zstd layers`, async () => {
    const o = await opts(profile);
    const r = await berth(
      [
        'exec',
        '--no-https',
        `docker://${anon.host}/berth/test@${pushedDigest}`,
        'cat',
        '/etc/motd',
      ],
      o,
    );
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, MOTD);
    const z = await berth(
      [
        'exec',
        '--no-https',
        `docker://${anon.host}/berth/zstd:v1`,
        'sh',
        '-c',
        'cat /etc/motd /data/file',
      ],
      o,
    );
    assert.is(z.code, 0, z.stderr);
    assert.is(z.stdout, `${MOTD}hello from layer 2\n`);
    show(profile, 'by digest; zstd layers');
  });

  test(`${tag} a multi-platform index (arm64 listed first): the host's platform, --platform, and an error listing what exists`, async () => {
    const o = await opts(profile);
    const ref = `docker://${anon.host}/berth/multi`;
    const host = await berth(['exec', '--no-https', ref, 'cat', '/platform'], o);
    assert.is(host.code, 0, host.stderr);
    assert.is(host.stdout, `${HOST_ARCH}\n`);
    const arm = await berth(
      ['exec', '--no-https', '--platform', 'linux/arm64', ref, 'cat', '/platform'],
      o,
    );
    assert.is(arm.code, 0, arm.stderr);
    assert.is(arm.stdout, 'arm64\n');
    const none = await berth(['exec', '--no-https', '--platform', 'linux/s390x', ref, 'true'], o);
    assert.is(none.code, 255);
    assert.match(none.stderr, /no manifest for linux\/s390x/);
    assert.match(none.stderr, /linux\/arm64\/v8, linux\/amd64/);
    show(profile, 'platforms', `${host.stdout.trim()}, ${arm.stdout.trim()}`);
  });

  test(`${tag} credentials: refused without, accepted from --authfile, flags, environment and $XDG_RUNTIME_DIR`, async () => {
    const o = await opts(profile);
    const ref = `docker://${secured.host}/private/test:v1`;
    const args = (...a: string[]) => ['exec', '--no-https', ...a, ref, 'cat', '/etc/motd'];
    const denied = await berth(args(), o);
    assert.is(denied.code, 255);
    assert.match(denied.stderr, /requires authentication/);
    assert.match(denied.stderr, /hint: .*--authfile/);
    const wrong = await berth(args('--docker-username', USERNAME, '--docker-password', 'nope'), o);
    assert.is(wrong.code, 255);
    assert.match(wrong.stderr, /refused the credentials/);

    const dir = path.join(work, `auth-${profile}`);
    await mkdir(path.join(dir, 'containers'), { recursive: true });
    const auth = JSON.stringify({
      auths: {
        [secured.host]: { auth: Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64') },
      },
    });
    await writeFile(path.join(dir, 'auth.json'), auth, { mode: 0o600 });
    await writeFile(path.join(dir, 'containers', 'auth.json'), auth, { mode: 0o600 });
    if (profile !== 'root') {
      for (const p of [
        dir,
        path.join(dir, 'containers'),
        path.join(dir, 'auth.json'),
        path.join(dir, 'containers', 'auth.json'),
      ])
        await chown(p, user.uid, user.gid);
    }
    const viaFile = await berth(args('--authfile', path.join(dir, 'auth.json')), o);
    assert.is(viaFile.code, 0, viaFile.stderr);
    assert.is(viaFile.stdout, MOTD);
    const viaFlags = await berth(
      args('--docker-username', USERNAME, '--docker-password', PASSWORD),
      await opts(profile, { cacheDir: await freshCache(profile) }),
    );
    assert.is(viaFlags.code, 0, viaFlags.stderr);
    const viaEnv = await berth(
      args(),
      await opts(profile, { env: { DOCKER_USERNAME: USERNAME, DOCKER_PASSWORD: PASSWORD } }),
    );
    assert.is(viaEnv.code, 0, viaEnv.stderr);
    const viaXdg = await berth(args(), await opts(profile, { env: { XDG_RUNTIME_DIR: dir } }));
    assert.is(viaXdg.code, 0, viaXdg.stderr);
    show(profile, 'htpasswd registry', 'authfile, flags, env, XDG_RUNTIME_DIR');
  });

  test(`${tag} oci-archive: and docker-archive: images, and bare archive paths`, async () => {
    const o = await opts(profile);
    for (const ref of [
      `oci-archive:${ociArchive}:v1`,
      `docker-archive:${dockerArchive}`,
      `${ociArchive}:v1`,
      dockerArchive,
    ]) {
      const r = await berth(
        ['exec', ref, 'sh', '-c', 'cat /etc/motd; test ! -e /deleteme && ls /opaque'],
        o,
      );
      assert.is(r.code, 0, `${ref}: ${r.stderr}`);
      assert.is(r.stdout, `${MOTD}new\n`, ref);
    }
    show(profile, 'archives');
  });

  test(`${tag} a second launch does no unpacking: it runs the cached tree as it is`, async () => {
    const o = await opts(profile, { cacheDir: await freshCache(profile) });
    const first = await berth(['exec', image.ref, 'cat', '/etc/motd'], o);
    assert.is(first.code, 0, first.stderr);
    assert.is(count(first.stderr, UNPACKED), 3, first.stderr);
    const { done } = await trees(o.cacheDir);
    assert.is(done.length, 1);
    const tree = path.join(o.cacheDir, 'rootfs', done[0] as string);
    const before = await stat(tree);
    // A file only the cached tree has: the second launch must see it.
    await writeFile(path.join(tree, 'berth-e2e-marker'), 'from the cached tree\n');
    const second = await berth(['exec', image.ref, 'cat', '/berth-e2e-marker', '/etc/motd'], o);
    assert.is(second.code, 0, second.stderr);
    assert.is(second.stdout, `from the cached tree\n${MOTD}`);
    assert.is(count(second.stderr, UNPACKED), 0, second.stderr);
    assert.is((await stat(tree)).ino, before.ino, 'the same tree');
    assert.equal((await trees(o.cacheDir)).done, done);
    show(profile, 'warm launch reuses the tree');
  });

  test(`${tag} 8 parallel first launches all succeed; the image is downloaded and unpacked once`, async () => {
    const o = await opts(profile, { cacheDir: await freshCache(profile) });
    const ref = `docker://${anon.host}/berth/test:v1`;
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        startBerth(['exec', '--no-https', ref, 'cat', '/etc/motd'], o),
      ),
    );
    const stderr = results.map((r) => String(r.stderr)).join('');
    for (const r of results) {
      assert.is(r.exitCode, 0, String(r.stderr));
      assert.is(String(r.stdout), MOTD);
    }
    assert.is(count(stderr, DOWNLOADED), 3, `each layer downloaded once:\n${stderr}`);
    assert.is(count(stderr, UNPACKED), 3, `one unpack of 3 layers:\n${stderr}`);
    const t = await trees(o.cacheDir);
    assert.is(t.done.length, 1);
    assert.equal(t.tmp, []);
    show(profile, '8 parallel launches', '1 download, 1 unpack');
  });

  test(`${tag} kill -9 in the middle of an unpack leaves nothing trusted; the next launch succeeds`, async () => {
    const o = await opts(profile, { cacheDir: await freshCache(profile) });
    const ref = `oci:${image.layout}:many`;
    const child = startBerth(['exec', ref, 'cat', '/etc/motd'], o);
    const tmp = await waitFor(
      async () => (await trees(o.cacheDir)).tmp[0],
      60_000,
      'the unpack to start',
    );
    // The process that unpacks: berth itself as root, its worker in the user namespace otherwise.
    const victim =
      profile === 'root'
        ? (child.pid as number)
        : await waitFor(() => workerOf(child.pid as number), 10_000, 'the unpack worker');
    assert.is((await trees(o.cacheDir)).done.length, 0, 'killed before the unpack finished');
    process.kill(victim, 'SIGKILL');
    const killed = await child;
    assert.is.not(killed.exitCode, 0);
    const after = await trees(o.cacheDir);
    assert.equal(after.done, [], 'nothing complete was left');
    assert.ok(after.tmp.includes(tmp), 'the half-written tree is only a temporary');
    const next = await berth(['exec', ref, 'sh', '-c', 'cat /etc/motd; ls /many/d39 | wc -l'], o);
    assert.is(next.code, 0, next.stderr);
    assert.is(next.stdout, `${MOTD}1000\n`);
    const final = await trees(o.cacheDir);
    assert.is(final.done.length, 1);
    assert.equal(final.tmp, [], 'the stale temporary tree was removed');
    show(profile, 'kill -9 mid-unpack', `killed pid ${victim}, then recovered`);
  });

  test(`${tag} --disable-cache: works and leaves nothing in the cache or the temporary directory`, async () => {
    const cacheDir = await freshCache(profile);
    const tmpdir = await freshCache(profile);
    const o = await opts(profile, { cacheDir, env: { TMPDIR: tmpdir } });
    const r = await berth(
      [
        'exec',
        '--no-https',
        '--disable-cache',
        `docker://${anon.host}/berth/test:v1`,
        'cat',
        '/etc/motd',
      ],
      o,
    );
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, MOTD);
    assert.equal(await readdir(cacheDir), []);
    assert.equal(
      (await readdir(tmpdir)).filter((n) => n.startsWith('berth-nocache-')),
      [],
      'the temporary cache was removed',
    );
    show(profile, '--disable-cache');
  });

  test(`${tag} cache list --json and cache clean: one image, leftovers, everything (subuid-owned trees too)`, async () => {
    const o = await opts(profile, { cacheDir: await freshCache(profile) });
    const ref = `docker://${anon.host}/berth/test:v1`;
    assert.is((await berth(['pull', '-q', '--no-https', ref], o)).code, 0);
    assert.is((await berth(['pull', '-q', `oci:${image.layout}:zstd`], o)).code, 0);
    const list = await berth(['cache', 'list', '--json'], o);
    assert.is(list.code, 0, list.stderr);
    const listing = JSON.parse(list.stdout) as {
      images: Array<{ refs: string[]; manifestDigest: string; bytes: number; path: string }>;
      blobs: { count: number };
    };
    assert.is(listing.images.length, 2);
    const pulled = listing.images.find((e) => e.refs.includes(ref));
    assert.ok(pulled, list.stdout);
    assert.ok(pulled.bytes > 0);
    assert.is(listing.blobs.count, 5, 'manifest, config and 3 layers');
    const table = await berth(['cache', 'list'], o);
    assert.match(table.stdout, /IMAGE\s+DIGEST\s+VARIANT\s+SIZE\s+LAST USED/);
    assert.match(table.stdout, new RegExp(ref.replace(/[/.]/g, '\\$&')));

    // A leftover of an interrupted unpack, owned (for the user) by one of its subuids.
    const leftover = `${pulled.path}.tmp-e2eleftover`;
    await mkdir(path.join(leftover, 'sub'), { recursive: true });
    await writeFile(path.join(leftover, 'sub', 'f'), 'x');
    if (profile !== 'root') {
      const sub = await firstSubid(user.name);
      for (const p of [path.join(leftover, 'sub', 'f'), path.join(leftover, 'sub'), leftover])
        await chown(p, sub + 1000, sub + 1000);
      await chmod(path.join(leftover, 'sub'), 0o500);
    }
    const plain = await berth(['cache', 'clean'], o);
    assert.is(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /removed 0 images, 0 blobs and 1 leftovers/);
    assert.not.ok(await stat(leftover).catch(() => undefined), 'the leftover is gone');

    const clean = await berth(['cache', 'clean', ref], o);
    assert.is(clean.code, 0, clean.stderr);
    // the zstd image shares the config blob, which is kept
    assert.match(clean.stdout, /removed 1 images, 4 blobs/, clean.stdout);
    await assert.not.ok(await stat(pulled.path).catch(() => undefined), 'the tree is gone');
    const unknown = await berth(['cache', 'clean', 'docker://nothing/here:v0'], o);
    assert.is(unknown.code, 255);
    assert.match(unknown.stderr, /no cached image matches/);
    const all = await berth(['cache', 'clean', '--all'], o);
    assert.is(all.code, 0, all.stderr);
    assert.equal(await readdir(o.cacheDir), []);
    show(profile, 'cache list and clean');
  });
}

test('[user] pull on a terminal draws progress bars', async () => {
  const o = await opts('user', { cacheDir: await freshCache('user'), pty: true });
  const r = await berth(['pull', '--no-https', `docker://${anon.host}/berth/test:v1`], o);
  assert.is(r.code, 0, r.stdout);
  assert.match(r.stdout, /layer 1\/3 [0-9a-f]{12} downloaded\s+\[=+\]/);
  assert.match(r.stdout, /unpacked\s+\[=+\] .*B\/s/);
  assert.ok(r.stdout.includes('\u001b[3A'), 'bars are redrawn in place');
  show('user', 'terminal progress bars');
});

// ---- images made by other tools ----

let umociLayout: string | undefined;
/**
 * An OCI layout made by umoci alone: `umoci new`, then `umoci insert` of a static busybox and of
 * a small tree. umoci 0.4.7 writes these layers without the tar end-of-archive marker (and
 * without the last member's padding).
 */
async function umociImage(): Promise<string> {
  if (umociLayout) return umociLayout;
  const layout = path.join(work, 'umoci-layout');
  const src = path.join(work, 'umoci-src');
  await mkdir(path.join(src, 'sub'), { recursive: true });
  await writeFile(path.join(src, 'sub', 'file'), 'inserted by umoci\n');
  await execa('umoci', ['init', '--layout', layout]);
  await execa('umoci', ['new', '--image', `${layout}:t`]);
  await execa('umoci', ['insert', '--image', `${layout}:t`, '/bin/busybox', '/bin/busybox']);
  await execa('umoci', ['insert', '--image', `${layout}:t`, src, '/data']);
  // the same image with accounts, and a User in its config (by ids, by name, one it lacks)
  const etc = path.join(work, 'umoci-etc');
  await mkdir(etc);
  await writeFile(
    path.join(etc, 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1234:5678:App:/home/app:/bin/sh\n',
  );
  await writeFile(path.join(etc, 'group'), 'root:x:0:\nappgrp:x:5678:\nwheel:x:10:root,app\n');
  await execa('umoci', ['insert', '--image', `${layout}:t`, '--tag', 'accounts', etc, '/etc']);
  for (const [tag, user] of [
    ['ids', '1234:5678'],
    ['named', 'app'],
    ['ghost', 'ghost'],
  ]) {
    await execa('umoci', [
      'config',
      '--image',
      `${layout}:accounts`,
      '--tag',
      tag as string,
      '--config.user',
      user as string,
      '--config.entrypoint',
      '/bin/busybox',
      '--config.cmd',
      'id',
    ]);
  }
  await execa('chmod', ['-R', 'a+rX', layout]);
  umociLayout = layout;
  return layout;
}

/** The uncompressed tar streams of the layers of `layout:tag` (an OCI layout). */
async function layerTars(layout: string, tag: string): Promise<Buffer[]> {
  const blob = async (d: string) =>
    readFile(path.join(layout, 'blobs', 'sha256', d.replace('sha256:', '')));
  const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const desc = index.manifests.find(
    (m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag,
  );
  const manifest = JSON.parse(String(await blob(desc?.digest as string))) as {
    layers: Array<{ digest: string }>;
  };
  const { gunzipSync } = await import('node:zlib');
  return Promise.all(manifest.layers.map(async (l) => gunzipSync(await blob(l.digest))));
}

for (const profile of PROFILES_HERE) {
  test(`[${profile}] an image made by umoci insert (layers without an end-of-archive marker) runs`, async () => {
    const layout = await umociImage();
    const tars = await layerTars(layout, 't');
    assert.is(tars.length, 2);
    for (const t of tars) {
      // what makes these layers special: they do not end with two zero blocks
      assert.ok(t.length % 512 !== 0 || !t.subarray(-1024).equals(Buffer.alloc(1024)), 'no marker');
    }
    const o = await opts(profile, { cacheDir: await freshCache(profile) });
    const r = await berth(['exec', `oci:${layout}:t`, '/bin/busybox', 'cat', '/data/sub/file'], o);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'inserted by umoci\n');
    assert.is(count(r.stderr, UNPACKED), 2, r.stderr);
    show(profile, 'umoci insert layers');
  });
}

for (const profile of PROFILES_HERE) {
  test(`[${profile}] oci mount applies the image's User (ids, a name and its groups); a user the image lacks is an error`, async () => {
    const layout = await umociImage();
    const o = await opts(profile, { cacheDir: await freshCache(profile) });
    const bundles = path.join(work, `user-bundles-${profile}`);
    await mkdir(bundles, { mode: 0o755 });
    if (profile !== 'root') await chown(bundles, user.uid, user.gid);
    for (const [tag, expected] of [
      ['ids', { uid: 1234, gid: 5678 }],
      ['named', { uid: 1234, gid: 5678, additionalGids: [10] }],
      ['t', { uid: 0, gid: 0 }],
    ] as const) {
      const bundle = path.join(bundles, tag);
      const m = await berth(['oci', 'mount', `oci:${layout}:${tag}`, bundle], o);
      assert.is(m.code, 0, m.stderr);
      const config = JSON.parse(await readFile(path.join(bundle, 'config.json'), 'utf8')) as {
        process: { user: unknown; args: string[]; env: string[]; terminal: boolean };
      };
      assert.equal(config.process.user, expected, `${tag}: process.user`);
      if (tag !== 't') {
        assert.equal(config.process.args, ['/bin/busybox', 'id']);
        assert.ok(config.process.env.includes('HOME=/home/app'), config.process.env.join(' '));
      }
      if (profile === 'root' && tag !== 't') {
        // the runtime really starts the process as that user
        config.process.terminal = false;
        await writeFile(path.join(bundle, 'config.json'), JSON.stringify(config));
        const id = `e2e-image-user-${tag}`;
        // (runc: root crun needs berth's own mount namespace on a hybrid-cgroup host)
        const r = await execa('runc', ['run', '--bundle', bundle, id], {
          reject: false,
          input: '',
        });
        await execa('runc', ['delete', '-f', id], { reject: false });
        assert.is(r.exitCode, 0, String(r.stderr));
        assert.match(String(r.stdout), /^uid=1234\(app\) gid=5678\(appgrp\)/, String(r.stdout));
        if (tag === 'named') assert.match(String(r.stdout), /groups=.*10\(wheel\)/);
      }
      const u = await berth(['oci', 'umount', bundle], o);
      assert.is(u.code, 0, u.stderr);
    }
    const ghost = path.join(bundles, 'ghost');
    const g = await berth(['oci', 'mount', `oci:${layout}:ghost`, ghost], o);
    assert.is(g.code, 255, g.stderr);
    assert.match(g.stderr, /^berth: .*"ghost".*/m);
    assert.ok(g.stderr.includes(`oci:${layout}:ghost`), g.stderr);
    assert.match(g.stderr, /\/etc\/passwd/);
    assert.not.ok(await stat(ghost).catch(() => undefined), 'no bundle is left');
    show(profile, 'oci mount and the image User');
  });
}

test('[root] a full disk during a download is named at once (exit 255, no retries, no half blob); the pull succeeds once there is space', async () => {
  const dir = path.join(work, 'tiny-cache');
  await mkdir(dir, { mode: 0o700 });
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', dir]);
  try {
    const o = await opts('root', { cacheDir: dir });
    const ref = `docker://${anon.host}/berth/test:v1`;
    const started = Date.now();
    const full = await berth(['pull', '--no-https', ref], o);
    assert.is(full.code, 255, full.stderr);
    assert.match(
      full.stderr,
      /^berth: cannot write layer \d sha256:[0-9a-f]{64} into the cache directory/m,
    );
    assert.ok(full.stderr.includes(`"${dir}"`), `names the cache directory: ${full.stderr}`);
    assert.match(full.stderr, /no space left on the device; it needs \d+ more bytes/);
    assert.match(full.stderr, /^hint: free space in/m);
    assert.not.match(full.stderr, /network|tried \d+ times|cut short/);
    assert.ok(Date.now() - started < 30_000, 'no backoff');
    const blobs = await readdir(path.join(dir, 'blobs', 'sha256'));
    assert.equal(
      blobs.filter((n) => n.includes('.tmp-')),
      [],
      `no half blob is left: ${blobs.join(' ')}`,
    );
    await execa('mount', ['-o', 'remount,size=64m', dir]);
    const ok = await berth(['pull', '--no-https', ref], o);
    assert.is(ok.code, 0, ok.stderr);
    assert.is(ok.stdout, `${pushedDigest}\n`);
    show('root', 'a full cache disk', full.stderr.split('\n')[0]?.slice(7, 60));
  } finally {
    await execa('umount', [dir], { reject: false });
  }
});

const DEEP = 1000;
const deepName = (i: number) => `nested-directory-${String(i).padStart(4, '0')}`;
let deepTag: string | undefined;
/**
 * The umoci image plus a layer made by GNU tar from a tree of 1,000 nested directories (paths of
 * about 22 kB, far beyond PATH_MAX), added with `umoci raw add-layer`.
 */
async function deepImage(): Promise<string> {
  const layout = await umociImage();
  if (deepTag) return layout;
  const src = path.join(work, 'deep-src');
  await mkdir(src);
  // made with relative steps: no absolute path this long can be passed to the kernel
  const cwd = process.cwd();
  process.chdir(src);
  try {
    for (let i = 0; i < DEEP; i++) {
      mkdirSync(deepName(i));
      process.chdir(deepName(i));
    }
    writeFileSync('leaf', 'at the bottom\n');
  } finally {
    process.chdir(cwd);
  }
  await writeFile(path.join(src, 'marker'), 'deep image\n');
  const tar = path.join(work, 'deep.tar');
  await execa('tar', ['-C', src, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.']);
  await execa('rm', ['-rf', src]);
  await execa('umoci', ['raw', 'add-layer', '--image', `${layout}:t`, '--tag', 'deep', tar]);
  await execa('chmod', ['-R', 'a+rX', layout]);
  deepTag = 'deep';
  return layout;
}

for (const profile of PROFILES_HERE) {
  test(`[${profile}] a layer with 1,000 nested directories (GNU tar, paths beyond PATH_MAX) unpacks; cache clean removes it`, async () => {
    const layout = await deepImage();
    const cacheDir = await freshCache(profile);
    const o = await opts(profile, { cacheDir });
    try {
      const r = await berth(['exec', `oci:${layout}:deep`, '/bin/busybox', 'cat', '/marker'], o);
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, 'deep image\n');
      const { done } = await trees(cacheDir);
      assert.is(done.length, 1);
      // GNU find walks the cached tree with relative paths: every level and the leaf are there
      const tree = path.join(cacheDir, 'rootfs', done[0] as string);
      const found = await execa('find', ['.', '-name', 'leaf', '-execdir', 'cat', '{}', ';'], {
        cwd: tree,
      });
      assert.is(found.stdout, 'at the bottom');
      const dirs = await execa('sh', ['-c', `find . -name 'nested-directory-*' -type d | wc -l`], {
        cwd: tree,
      });
      assert.is(dirs.stdout.trim(), String(DEEP));
      const clean = await berth(['cache', 'clean', '--all'], o);
      assert.is(clean.code, 0, clean.stderr);
      assert.equal(await readdir(cacheDir), [], 'the deep tree is gone');
      show(profile, '1,000 nested directories');
    } finally {
      await execa('rm', ['-rf', cacheDir]);
    }
  });
}

/** The first subordinate uid of `name`. */
async function firstSubid(name: string): Promise<number> {
  const line = (await readFile('/etc/subuid', 'utf8'))
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  return Number(line?.split(':')[1]);
}

/** The unpack worker started (through unshare) by berth process `pid`, if it runs yet. */
async function workerOf(pid: number): Promise<number | undefined> {
  const parents = new Map<number, number>();
  const cmdlines = new Map<number, string>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = await readFile(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]));
      cmdlines.set(
        Number(name),
        (await readFile(`/proc/${name}/cmdline`, 'utf8')).replace(/\0/g, ' '),
      );
    } catch {
      // gone
    }
  }
  for (const [p, cmd] of cmdlines) {
    if (!cmd.includes('unpack-worker.js')) continue;
    for (let q: number | undefined = p; q && q > 1; q = parents.get(q)) if (q === pid) return p;
  }
  return undefined;
}

test.run();
