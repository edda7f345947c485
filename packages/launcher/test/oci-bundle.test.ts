import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { validateSpec } from '@berth-oci/bundle-spec';
import { isBerthError } from '@berth-oci/errors';
import type { ResolvedImage } from '@berth-oci/image-extract';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { UsernsPlan } from '../src/identity.js';
import { bundleIdMaps, bundleSpec, resolveBundleUser } from '../src/oci-bundle-spec.js';

const image = {
  config: {
    architecture: 'amd64',
    os: 'linux',
    config: { Entrypoint: ['/entry'], Cmd: ['arg'], Env: ['A=1'], WorkingDir: '/w' },
    rootfs: { type: 'layers', diff_ids: [] },
  },
} as unknown as ResolvedImage;

const rootPlan: UsernsPlan = {
  kind: 'root',
  outerUid: [],
  outerGid: [],
  innerUid: [],
  innerGid: [],
  uid: 0,
  gid: 0,
  cacheVariant: 'root',
  ownerMaps: null,
};
const subidPlan: UsernsPlan = {
  ...rootPlan,
  kind: 'subid',
  outerUid: [
    { containerID: 0, hostID: 1000, size: 1 },
    { containerID: 1, hostID: 100000, size: 65536 },
  ],
  outerGid: [
    { containerID: 0, hostID: 1000, size: 1 },
    { containerID: 1, hostID: 100000, size: 65536 },
  ],
};
const singlePlan: UsernsPlan = {
  ...rootPlan,
  kind: 'single',
  outerUid: [{ containerID: 0, hostID: 1000, size: 1 }],
  outerGid: [{ containerID: 0, hostID: 1000, size: 1 }],
};

test('bundleIdMaps: identity over each extent of the holder namespace, never across two', () => {
  assert.equal(bundleIdMaps(subidPlan).uid, [
    { containerID: 0, hostID: 0, size: 1 },
    { containerID: 1, hostID: 1, size: 65536 },
  ]);
  assert.equal(bundleIdMaps(rootPlan), { uid: [], gid: [] });
});

test('bundleSpec as root: no user namespace, image command and env, uid 0, a terminal', () => {
  const spec = validateSpec(bundleSpec({ image, plan: rootPlan, terminal: true }));
  assert.equal(spec.process.args, ['/entry', 'arg']);
  assert.is(spec.process.cwd, '/w');
  assert.is(spec.process.terminal, true);
  assert.equal(spec.process.user, { uid: 0, gid: 0 });
  assert.ok(spec.process.env?.includes('A=1'));
  assert.ok(spec.process.env?.some((e) => e.startsWith('PATH=')));
  assert.is(spec.hostname, 'berth');
  assert.is(spec.root.path, 'rootfs');
  const ns = spec.linux?.namespaces?.map((n) => n.type);
  assert.equal(ns, ['pid', 'network', 'ipc', 'uts', 'mount']);
  assert.is(spec.linux?.uidMappings, undefined);
  const devpts = spec.mounts?.find((m) => m.destination === '/dev/pts');
  assert.ok(devpts?.options?.includes('gid=5'));
});

test('bundleSpec rootless: a user namespace over the holder maps; devpts gid=5 only if mapped', () => {
  const sub = validateSpec(bundleSpec({ image, plan: subidPlan, terminal: false }));
  assert.ok(sub.linux?.namespaces?.some((n) => n.type === 'user'));
  assert.is(sub.linux?.gidMappings?.length, 2);
  assert.is(sub.process.terminal, false);
  assert.ok(sub.mounts?.find((m) => m.destination === '/dev/pts')?.options?.includes('gid=5'));
  const single = validateSpec(bundleSpec({ image, plan: singlePlan, terminal: true }));
  assert.equal(single.linux?.uidMappings, [{ containerID: 0, hostID: 0, size: 1 }]);
  assert.not.ok(
    single.mounts?.find((m) => m.destination === '/dev/pts')?.options?.includes('gid=5'),
    'gid 5 is not mapped without subordinate ids',
  );
});

test('bundleSpec: an image without a command runs /bin/sh', () => {
  const bare = { config: { ...image.config, config: {} } } as unknown as ResolvedImage;
  assert.equal(bundleSpec({ image: bare, plan: rootPlan, terminal: true }).process.args, [
    '/bin/sh',
  ]);
});

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'app:x:1234:5678:App:/home/app:/bin/sh',
  'other:x:2000:2000::/srv/other:/bin/sh',
  '',
].join('\n');
const GROUP = [
  'root:x:0:',
  'appgrp:x:5678:',
  'wheel:x:10:root,app',
  'video:x:44:other,app',
  'staff:x:50:other',
  '',
].join('\n');

async function rootfsWith(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-bundle-user-'));
  await mkdir(path.join(root, 'etc'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(root, name), text);
  return root;
}

async function userError(user: string, rootfs: string): Promise<Error & { code?: string }> {
  try {
    await resolveBundleUser({ user, rootfs, image: 'oci:/img:t' });
  } catch (e) {
    assert.ok(isBerthError(e), String(e));
    return e as Error & { code?: string };
  }
  throw new Error(`User ${user} was accepted`);
}

test('resolveBundleUser: every form of Config.User, resolved in the image files', async () => {
  const rootfs = await rootfsWith({ 'etc/passwd': PASSWD, 'etc/group': GROUP });
  try {
    const r = (user: string) => resolveBundleUser({ user, rootfs, image: 'oci:/img:t' });
    assert.equal(await r('1234:5678'), { uid: 1234, gid: 5678, home: '/home/app' });
    assert.equal(await r('4321:8765'), { uid: 4321, gid: 8765 }, 'numeric ids need no entry');
    assert.equal(await r('app'), {
      uid: 1234,
      gid: 5678,
      additionalGids: [10, 44],
      home: '/home/app',
    });
    assert.equal(await r('app:video'), { uid: 1234, gid: 44, home: '/home/app' });
    assert.equal(await r('app:99'), { uid: 1234, gid: 99, home: '/home/app' });
    assert.equal(await r('2000:wheel'), { uid: 2000, gid: 10, home: '/srv/other' });
    assert.equal(await r('2000'), { uid: 2000, gid: 2000, home: '/srv/other' }, 'uid only');
    assert.equal(await r('777'), { uid: 777, gid: 0 }, 'a uid the image does not list');
    assert.equal(await r('root'), { uid: 0, gid: 0, additionalGids: [10], home: '/root' });
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
});

test('resolveBundleUser: names the image does not define are errors naming the user and the image', async () => {
  const rootfs = await rootfsWith({ 'etc/passwd': PASSWD, 'etc/group': GROUP });
  const bare = await rootfsWith({});
  try {
    const e = await userError('nobody-here', rootfs);
    assert.is(e.code, 'ERR_LAUNCH_USER');
    assert.match(e.message, /"nobody-here"/);
    assert.match(e.message, /"oci:\/img:t"/);
    assert.match(e.message, /\/etc\/passwd/);
    const g = await userError('app:nogroup', rootfs);
    assert.match(g.message, /group "nogroup".*\/etc\/group/);
    const none = await userError('app', bare);
    assert.match(none.message, /the image has none/);
    for (const bad of [':5', 'app:', 'a:b:c', '99999999999'])
      assert.is((await userError(bad, rootfs)).code, 'ERR_LAUNCH_USER', bad);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
    await rm(bare, { recursive: true, force: true });
  }
});

test('resolveBundleUser: the image files are read inside the rootfs (an absolute symlink stays in)', async () => {
  const rootfs = await rootfsWith({ 'etc/real-passwd': 'inner:x:42:43::/in:/bin/sh\n' });
  try {
    await symlink('/etc/real-passwd', path.join(rootfs, 'etc/passwd'));
    assert.equal(await resolveBundleUser({ user: 'inner', rootfs, image: 'i' }), {
      uid: 42,
      gid: 43,
      home: '/in',
    });
    // the host's root entry is not the image's
    await rm(path.join(rootfs, 'etc/passwd'));
    await symlink('/../../../../../../etc/passwd', path.join(rootfs, 'etc/passwd'));
    assert.is((await userError('root', rootfs)).code, 'ERR_LAUNCH_USER');
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
});

test('bundleSpec with an image user: process.user, no capabilities for a non-root user, its HOME', () => {
  const spec = validateSpec(
    bundleSpec({
      image,
      plan: rootPlan,
      terminal: true,
      user: { uid: 1234, gid: 5678, additionalGids: [10], home: '/home/app' },
    }),
  );
  assert.equal(spec.process.user, { uid: 1234, gid: 5678, additionalGids: [10] });
  assert.ok(spec.process.env?.includes('HOME=/home/app'));
  assert.equal(spec.process.capabilities?.effective, []);
  assert.equal(spec.process.capabilities?.permitted, []);
  const noHome = bundleSpec({ image, plan: rootPlan, terminal: true, user: { uid: 7, gid: 7 } });
  assert.ok(noHome.process?.env?.includes('HOME=/'));
  const sub = bundleSpec({
    image,
    plan: subidPlan,
    terminal: true,
    user: { uid: 1234, gid: 5678 },
  });
  assert.equal(sub.process?.user, { uid: 1234, gid: 5678 });
});

test('bundleSpec rootless: an image user the user namespace does not map is refused', () => {
  try {
    bundleSpec({
      image,
      plan: singlePlan,
      terminal: true,
      imageRef: 'oci:/img:t',
      user: { uid: 1234, gid: 0 },
    });
    assert.unreachable('accepted');
  } catch (e) {
    assert.ok(isBerthError(e));
    assert.is((e as { code: string }).code, 'ERR_LAUNCH_USER');
    assert.match((e as Error).message, /"oci:\/img:t" runs as uid 1234, which your user namespace/);
  }
});

test.run();
