import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildProcess, minimalSpec, OCI_VERSION } from '../src/builders.js';
import { capabilitySet } from '../src/capabilities.js';
import { validateSpec } from '../src/io.js';
import type { Mount, Spec } from '../src/schemas.js';
import { rejects } from './helpers.js';
import { ociErrors } from './oci-schema.js';

/** Asserts that `spec` passes both berth's schema and the official JSON schema. */
function assertValid(spec: Spec): void {
  assert.is(ociErrors(spec), '', 'official schema');
  assert.equal(validateSpec(spec), spec, 'berth schema');
}

const userProcess = () =>
  buildProcess({
    args: ['id', '-u'],
    env: ['PATH=/usr/bin:/bin', 'HOME=/home/u'],
    cwd: '/',
    uid: 1000,
    gid: 1000,
    capabilities: capabilitySet({ targetUid: 1000 }),
  });

// the mounts @berth-oci/mounts produces for a rootless SingularityCE-style launch
const appendixMounts: Mount[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  {
    destination: '/sys',
    type: 'none',
    source: '/sys',
    options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
  },
  {
    destination: '/sys/fs/cgroup',
    type: 'cgroup',
    source: 'cgroup',
    options: ['nosuid', 'noexec', 'nodev', 'ro'],
  },
  {
    destination: '/dev',
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nosuid', 'strictatime', 'mode=755', 'size=64m'],
  },
  {
    destination: '/dev/shm',
    type: 'tmpfs',
    source: 'shm',
    options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=64m'],
  },
  {
    destination: '/dev/mqueue',
    type: 'mqueue',
    source: 'mqueue',
    options: ['nosuid', 'noexec', 'nodev'],
  },
  {
    destination: '/dev/pts',
    type: 'devpts',
    source: 'devpts',
    options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'],
  },
  {
    destination: '/tmp',
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nosuid', 'relatime', 'mode=777', 'size=64m'],
  },
  {
    destination: '/home/u',
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['relatime', 'mode=755', 'size=64m', 'nosuid', 'uid=1000', 'gid=1000'],
  },
  {
    destination: '/data',
    type: 'none',
    source: '/srv/data',
    options: ['rbind', 'nodev', 'nosuid', 'ro'],
  },
];

const innerMap = [
  { containerID: 0, hostID: 1, size: 1000 },
  { containerID: 1000, hostID: 0, size: 1 },
  { containerID: 1001, hostID: 1001, size: 64536 },
];

test("minimalSpec is SingularityCE's base spec", () => {
  const spec = minimalSpec();
  assert.is(spec.ociVersion, OCI_VERSION);
  assert.is(OCI_VERSION, '1.0.2');
  assert.equal(spec.root, { path: 'rootfs', readonly: false });
  assert.equal(spec.mounts, []);
  assert.equal(spec.linux, { namespaces: [{ type: 'ipc' }, { type: 'mount' }], resources: {} });
  assert.equal(spec.process.args, ['sh']);
  assert.is(spec.process.cwd, '/');
  assert.is(spec.process.terminal, true);
});

test('minimalSpec returns a fresh object each call', () => {
  const a = minimalSpec();
  a.mounts?.push({ destination: '/x' });
  a.linux?.namespaces?.push({ type: 'pid' });
  assert.equal(minimalSpec().mounts, []);
  assert.is(minimalSpec().linux?.namespaces?.length, 2);
});

test('minimalSpec as is passes the official schema', () => {
  assertValid(minimalSpec());
});

test('minimalSpec with a real process passes the official schema', () => {
  const spec = minimalSpec();
  spec.process = userProcess();
  spec.root = { path: '/tmp/bundle/rootfs', readonly: false };
  assertValid(spec);
});

test('a spec with the default mounts and a bind passes the official schema', () => {
  const spec = minimalSpec();
  spec.process = userProcess();
  spec.mounts = appendixMounts;
  assertValid(spec);
});

test('a rootless spec with the inner user namespace and id maps passes', () => {
  const spec = minimalSpec();
  spec.process = userProcess();
  spec.mounts = appendixMounts;
  spec.annotations = { 'org.opencontainers.image.os': 'linux' };
  spec.linux = {
    namespaces: [
      { type: 'ipc' },
      { type: 'mount' },
      { type: 'pid' },
      { type: 'cgroup' },
      { type: 'user' },
    ],
    uidMappings: innerMap,
    gidMappings: innerMap,
    resources: {},
    cgroupsPath: 'system.slice:berth:parent-42',
  };
  assertValid(spec);
});

test('a fakeroot spec with root capabilities, hostname and every namespace passes', () => {
  const spec = minimalSpec();
  spec.process = buildProcess({
    args: ['/bin/sh', '-c', 'echo hi'],
    env: ['PATH=/bin', 'EMPTY='],
    cwd: '/root',
    uid: 0,
    gid: 0,
    terminal: true,
    consoleSize: { height: 30, width: 120 },
    capabilities: capabilitySet({ targetUid: 0, add: ['sys_admin'], drop: ['mknod'] }),
    noNewPrivileges: true,
    umask: 0o022,
    additionalGids: [0, 10],
  });
  spec.hostname = 'box';
  spec.linux = {
    namespaces: ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'].map(
      (type) => ({ type }) as { type: 'pid' },
    ),
    resources: {},
    maskedPaths: ['/proc/kcore'],
    readonlyPaths: ['/proc/sys'],
    sysctl: { 'net.ipv4.ip_forward': '1' },
  };
  spec.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }];
  assert.equal(spec.process.consoleSize, { height: 30, width: 120 });
  assertValid(spec);
});

test('a joined namespace (path) and a user process with added caps pass', () => {
  const spec = minimalSpec();
  spec.process = buildProcess({
    args: ['true'],
    env: [],
    cwd: '/',
    uid: 1000,
    gid: 100,
    capabilities: capabilitySet({ targetUid: 1000, add: ['net_admin'] }),
  });
  spec.linux = {
    namespaces: [{ type: 'network', path: '/proc/1/ns/net' }, { type: 'mount' }],
    resources: {},
  };
  assertValid(spec);
});

test('buildProcess sets only what it is given', () => {
  assert.equal(buildProcess({ args: ['true'], env: [], cwd: '/', uid: 5, gid: 6 }), {
    terminal: false,
    user: { uid: 5, gid: 6 },
    args: ['true'],
    env: [],
    cwd: '/',
  });
  const p = buildProcess({
    args: ['a'],
    env: ['A=1'],
    cwd: '/w',
    uid: 0,
    gid: 0,
    umask: 0o077,
    additionalGids: [1],
    noNewPrivileges: false,
    terminal: true,
  });
  assert.equal(p.user, { uid: 0, gid: 0, umask: 0o077, additionalGids: [1] });
  assert.is(p.noNewPrivileges, false);
  assert.is(p.terminal, true);
  assert.not.ok('capabilities' in p);
});

const base = { args: ['true'], env: [], cwd: '/', uid: 0, gid: 0 };
for (const [what, bad] of [
  ['empty args', { args: [] }],
  ['an empty program', { args: [''] }],
  ['a relative cwd', { cwd: 'work' }],
  ['an env entry without =', { env: ['PATH'] }],
  ['an env entry with an empty name', { env: ['=x'] }],
  ['a negative uid', { uid: -1 }],
  ['a fractional gid', { gid: 1.5 }],
  ['a umask above 0o777', { umask: 0o1000 }],
  ['a lower-case capability', { capabilities: { bounding: ['cap_chown'] } }],
  ['an unknown key', { user: 1000 }],
] as const) {
  test(`buildProcess refuses ${what}`, async () => {
    await rejects(() => buildProcess({ ...base, ...bad } as never), 'ERR_INVALID_OPTIONS');
  });
}

test('resources from the limit flags and a TOML file, devices, CDI hooks and a umask pass', () => {
  const spec = minimalSpec();
  spec.process = buildProcess({
    args: ['true'],
    env: ['PATH=/bin', 'LD_LIBRARY_PATH=/.singularity.d/libs'],
    cwd: '/',
    uid: 1000,
    gid: 1000,
    umask: 0o027,
    noNewPrivileges: true,
    capabilities: capabilitySet({ targetUid: 1000, base: [] }),
  });
  spec.hostname = 'named';
  spec.annotations = { 'run.oci.keep_original_groups': '1' };
  spec.linux = {
    namespaces: [{ type: 'ipc' }, { type: 'mount' }, { type: 'network' }, { type: 'uts' }],
    cgroupsPath: '/berth/berth-0123',
    devices: [
      { path: '/dev/berth-null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
    ],
    resources: {
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      ],
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      memory: { limit: 256 * 1024 * 1024, reservation: 1024, swap: -1, disableOOMKiller: true },
      pids: { limit: 64 },
      blockIO: {
        weight: 500,
        weightDevice: [{ major: 8, minor: 0, weight: 100 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      },
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      unified: { 'memory.high': 'max' },
    },
  };
  spec.hooks = {
    createContainer: [{ path: '/usr/bin/vendor-hook', args: ['vendor-hook', 'x'], env: ['A=1'] }],
    poststop: [{ path: '/bin/true', timeout: 5 }],
  };
  assertValid(spec);
});

// [what, linux patch, whether the official schema refuses it too (berth is stricter elsewhere)]
for (const [what, patch, official] of [
  ['a device of unknown type', { devices: [{ path: '/dev/x', type: 'z' }] }, true],
  ['a relative device path', { devices: [{ path: 'dev/x', type: 'c' }] }, false],
  ['a device rule without allow', { resources: { devices: [{ access: 'rwm' }] } }, true],
  ['a pids limit without limit', { resources: { pids: {} } }, true],
  ['a blkio weight of 5', { resources: { blockIO: { weight: 5 } } }, false],
  ['a fractional memory limit', { resources: { memory: { limit: 1.5 } } }, true],
] as const) {
  test(`validateSpec refuses ${what}`, async () => {
    const spec = minimalSpec();
    spec.linux = { ...spec.linux, ...(patch as object) };
    if (official) assert.not.equal(ociErrors(spec), '', 'official schema');
    await rejects(() => validateSpec(spec), 'ERR_SPEC_INVALID');
  });
}

test('validateSpec refuses a hook with a relative path', async () => {
  const spec = minimalSpec();
  spec.hooks = { prestart: [{ path: 'hook' }] };
  await rejects(() => validateSpec(spec), 'ERR_SPEC_INVALID');
});

test('limits as large as int64 stay valid', () => {
  const spec = minimalSpec();
  spec.linux = { ...spec.linux, resources: { memory: { limit: 2 ** 62 } } };
  assert.is(ociErrors(spec), '');
  validateSpec(spec);
});

test.run();
