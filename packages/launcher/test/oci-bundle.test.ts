import { validateSpec } from '@berth-oci/bundle-spec';
import type { ResolvedImage } from '@berth-oci/image-extract';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { UsernsPlan } from '../src/identity.js';
import { bundleIdMaps, bundleSpec } from '../src/oci-bundle-spec.js';

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

test.run();
