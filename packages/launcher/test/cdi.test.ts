import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildProcess, minimalSpec, type Spec, validateSpec } from '@berth-oci/bundle-spec';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { injectCdiDevices, sortMounts } from '../src/cdi.js';
import { loadCdiSpecs, parseCdiName } from '../src/cdi-specs.js';
import { rejects } from './helpers.js';

let dir = '';
let a = '';
let b = '';
test.before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'berth-cdi-'));
  a = path.join(dir, 'a');
  b = path.join(dir, 'b');
  await mkdir(a);
  await mkdir(b);
  await writeFile(
    path.join(a, 'vendor.yaml'),
    [
      'cdiVersion: "0.6.0"',
      'kind: vendor.com/gpu',
      'containerEdits:',
      '  env: ["SPEC=wide"]',
      '  hooks:',
      '    - hookName: createContainer',
      '      path: /usr/bin/vendor-hook',
      '      args: [vendor-hook, create]',
      'devices:',
      '  - name: gpu0',
      '    containerEdits:',
      '      env: ["GPU=0", "PATH=/vendor/bin"]',
      '      deviceNodes:',
      '        - path: /dev/vendor0',
      '          hostPath: /dev/null',
      '          permissions: rw',
      '      mounts:',
      '        - hostPath: /usr/lib/vendor',
      '          containerPath: /usr/lib/vendor',
      '          options: [ro, nosuid, nodev, bind]',
      '      additionalGids: [44]',
      '  - name: gpu1',
      '    containerEdits:',
      '      deviceNodes:',
      '        - path: /dev/zero',
      '          type: c',
      '          major: 1',
      '          minor: 5',
      '          uid: 7',
    ].join('\n'),
  );
  await writeFile(path.join(a, 'broken.json'), '{ not json');
  await writeFile(path.join(a, 'ignored.txt'), 'not a spec');
  // a later directory overrides a device of the same name
  await writeFile(
    path.join(b, 'override.json'),
    JSON.stringify({
      cdiVersion: '0.5.0',
      kind: 'vendor.com/gpu',
      devices: [{ name: 'gpu1', containerEdits: { env: ['OVERRIDDEN=1'] } }],
    }),
  );
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function spec(uid = 1000): Spec {
  const s = minimalSpec();
  s.process = buildProcess({ args: ['true'], env: ['PATH=/bin', 'A=1'], cwd: '/', uid, gid: uid });
  s.mounts = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/usr/lib/vendor', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' },
  ];
  return s;
}

test('parseCdiName: vendor/class=name', () => {
  assert.equal(parseCdiName('nvidia.com/gpu=0'), { vendor: 'nvidia.com', class: 'gpu', name: '0' });
  assert.equal(parseCdiName('vendor.com/gpu=all'), {
    vendor: 'vendor.com',
    class: 'gpu',
    name: 'all',
  });
  for (const bad of [
    'gpu0',
    'vendor.com/gpu',
    'vendor.com=gpu',
    '/gpu=x',
    'v/c=',
    'v/c=-x',
    '1v/c=x',
  ])
    assert.is(parseCdiName(bad), undefined, bad);
});

test('loadCdiSpecs: json and yaml files; broken ones reported', async () => {
  const { specs, errors } = await loadCdiSpecs([a, b, path.join(dir, 'missing')]);
  assert.equal(
    specs.map((s) => path.basename(s.file)),
    ['vendor.yaml', 'override.json'],
  );
  assert.is(errors.length, 1);
  assert.match(errors[0] as string, /broken\.json/);
});

test('injectCdiDevices: env, device node, device rule, mounts sorted by depth, hooks, gids', async () => {
  const s = spec();
  await injectCdiDevices(s, ['vendor.com/gpu=gpu0'], [a]);
  assert.equal(s.process.env, ['PATH=/vendor/bin', 'A=1', 'SPEC=wide', 'GPU=0']);
  assert.equal(s.linux?.devices, [
    { path: '/dev/vendor0', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 1000, gid: 1000 },
  ]);
  assert.equal(s.linux?.resources?.devices, [
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
  ]);
  assert.equal(
    s.mounts?.map((m) => m.destination),
    ['/proc', '/tmp', '/usr/lib/vendor'],
  );
  assert.equal(s.mounts?.[2], {
    destination: '/usr/lib/vendor',
    source: '/usr/lib/vendor',
    options: ['ro', 'nosuid', 'nodev', 'bind'],
  });
  assert.equal(s.hooks, {
    createContainer: [{ path: '/usr/bin/vendor-hook', args: ['vendor-hook', 'create'] }],
  });
  assert.equal(s.process.user.additionalGids, [44]);
  validateSpec(s);
});

test('injectCdiDevices: given major/minor kept, uid given, root process gets no owner; later dirs win', async () => {
  const s = spec(0);
  await injectCdiDevices(s, ['vendor.com/gpu=gpu1'], [a]);
  assert.equal(s.linux?.devices, [{ path: '/dev/zero', type: 'c', major: 1, minor: 5, uid: 7 }]);
  const t = spec(0);
  await injectCdiDevices(t, ['vendor.com/gpu=gpu1'], [a, b]);
  assert.ok(t.process.env?.includes('OVERRIDDEN=1'));
  assert.is(t.linux?.devices, undefined);
});

test('injectCdiDevices rootless: a node from another host path becomes a bind', async () => {
  const s = spec();
  await injectCdiDevices(s, ['vendor.com/gpu=gpu0'], [a], { rootless: true });
  assert.is(s.linux?.devices, undefined);
  assert.ok(
    s.mounts?.some(
      (m) => m.destination === '/dev/vendor0' && m.source === '/dev/null' && m.type === 'bind',
    ),
  );
});

test('injectCdiDevices errors: bad names, unresolvable devices (naming broken spec files)', async () => {
  await rejects(
    () => injectCdiDevices(spec(), ['gpu0'], [a]),
    'ERR_LAUNCH_CDI',
    /string "gpu0" does not represent a valid CDI device/,
  );
  const e = await rejects(
    () => injectCdiDevices(spec(), ['vendor.com/gpu=gpu9'], [a]),
    'ERR_LAUNCH_CDI',
    /while setting up CDI devices: unresolvable CDI devices vendor.com\/gpu=gpu9/,
  );
  assert.match(e.hint ?? '', /broken\.json/);
  await writeFile(
    path.join(b, 'bad-node.json'),
    JSON.stringify({
      cdiVersion: '0.5.0',
      kind: 'vendor.com/bad',
      devices: [
        {
          name: 'x',
          containerEdits: { deviceNodes: [{ path: '/dev/x', hostPath: '/etc/passwd' }] },
        },
      ],
    }),
  );
  await rejects(
    () => injectCdiDevices(spec(), ['vendor.com/bad=x'], [b]),
    'ERR_LAUNCH_CDI',
    /is not a device node/,
  );
});

test('no devices: nothing read, nothing changed', async () => {
  const s = spec();
  const before = JSON.stringify(s);
  await injectCdiDevices(s, [], ['/does/not/exist']);
  assert.is(JSON.stringify(s), before);
});

test('sortMounts: by depth, then by destination, stable', () => {
  assert.equal(
    sortMounts([
      { destination: '/b/c' },
      { destination: '/a' },
      { destination: '/b/' },
      { destination: '/a/b/c' },
      { destination: '/0' },
    ]).map((m) => m.destination),
    ['/0', '/a', '/b/', '/b/c', '/a/b/c'],
  );
});

test.run();
