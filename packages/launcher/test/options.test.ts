import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseOptions } from '@berth-oci/errors';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  cgroupResources,
  checkCgroupSupport,
  deviceNumbers,
  limitsToResources,
  loadCgroupsToml,
  parseSize,
} from '../src/cgroups.js';
import { checkOptions, resolvConfFromDns, unsupportedOptions } from '../src/check-options.js';
import { LaunchError } from '../src/errors.js';
import { resolveInImage } from '../src/image-path.js';
import { launch } from '../src/launch.js';
import { LaunchOptionsSchema } from '../src/options.js';
import { planOverlays } from '../src/overlay.js';
import { listImageCache, pull } from '../src/pull.js';
import { rejects } from './helpers.js';

const resolved = (o: Record<string, unknown>) =>
  parseOptions(LaunchOptionsSchema, { image: 'oci:/x', ...o }, 'test');

let dir = '';
test.before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'berth-launcher-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('defaults: the network is bridge, everything else off', () => {
  const o = resolved({});
  assert.is(o.network, 'bridge');
  assert.equal(unsupportedOptions(o), []);
  checkOptions(o);
});

test('unsupportedOptions: upstream names in upstream order; --compat is NoInit and ContainAll', () => {
  const o = resolved({
    sifFuse: true,
    contain: true,
    fusemount: ['x'],
    boot: true,
    net: true,
    network: 'bridge',
    networkArgs: ['a'],
    security: ['s'],
    keyInfo: true,
    nvccli: true,
    netnsPath: '/n',
    shell: '/bin/zsh',
    containAll: true,
    noInit: true,
  });
  assert.equal(
    unsupportedOptions(o).map((b) => b.name),
    [
      'FuseMount',
      'NvCCLI',
      'Network (except none)',
      'NetworkArgs',
      'NetnsPath',
      'SecurityOpts',
      'ShellPath',
      'Boot',
      'NoInit',
      'Contain',
      'ContainAll',
      'KeyInfo',
      'SIFFUSE',
    ],
  );
  assert.equal(
    unsupportedOptions(resolved({ compat: true })).map((b) => b.name),
    ['NoInit', 'ContainAll'],
  );
  assert.equal(unsupportedOptions(resolved({ net: true, network: 'none' })), []);
  assert.equal(
    unsupportedOptions(resolved({ network: 'bridge' })),
    [],
    '--network alone does nothing',
  );
});

test('checkOptions: the error text, --compat with --no-compat, --writable', async () => {
  await rejects(
    () => checkOptions(resolved({ contain: true, containAll: true })),
    'ERR_LAUNCH_UNSUPPORTED',
    /^not supported by OCI launcher: Contain,ContainAll$/,
  );
  await rejects(
    () => checkOptions(resolved({ compat: true, noCompat: true })),
    'ERR_LAUNCH_OPTIONS',
    /cannot use --no-compat with --compat/,
  );
  await rejects(
    () => checkOptions(resolved({ writable: true })),
    'ERR_LAUNCH_OPTIONS',
    /does not contain a writable overlay/,
  );
});

test('resolvConfFromDns: spaces removed, IPv4 and IPv6, a bad address refused', async () => {
  assert.is(
    resolvConfFromDns('8.8.8.8, 8.8.4.4 ,::1'),
    'nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver ::1\n',
  );
  await rejects(
    () => resolvConfFromDns('8.8.8.8,w3.org'),
    'ERR_LAUNCH_OPTIONS',
    /DNS nameserver "w3.org" is not a valid IP address/,
  );
  await rejects(() => resolvConfFromDns('1.2.3.4,'), 'ERR_LAUNCH_OPTIONS', /""/);
});

test('parseSize: docker units, binary multiples', async () => {
  assert.is(parseSize('500M', 'memory'), 500 * 1024 * 1024);
  assert.is(parseSize('1g', 'memory'), 1024 ** 3);
  assert.is(parseSize('2KiB', 'memory'), 2048);
  assert.is(parseSize('1.5k', 'memory'), 1536);
  assert.is(parseSize('123', 'memory'), 123);
  assert.is(parseSize(4096, 'memory'), 4096);
  await rejects(() => parseSize('lots', 'memory'), 'ERR_LAUNCH_CGROUPS', /invalid memory value/);
});

test('limitsToResources: upstream conversions', async () => {
  assert.is(await limitsToResources({}), undefined);
  assert.equal(
    await limitsToResources(
      {
        cpus: '1.5',
        cpuShares: 512,
        cpusetCpus: '0-1',
        cpusetMems: '0',
        memory: '64M',
        memoryReservation: '32M',
        memorySwap: '-1',
        oomKillDisable: true,
        pidsLimit: -1,
        blkioWeight: 500,
      },
      4,
    ),
    {
      blockIO: { weight: 500 },
      cpu: { shares: 512, cpus: '0-1', mems: '0', period: 100000, quota: 150000 },
      memory: {
        limit: 67108864,
        reservation: 33554432,
        swap: -1,
        disableOOMKiller: true,
      },
      pids: { limit: -1 },
    },
  );
  // 0 and negative shares, pids 0 and blkio-weight 0 mean unset, as upstream's flag defaults
  assert.is(await limitsToResources({ cpuShares: -1, pidsLimit: 0, blkioWeight: 0 }), undefined);
  assert.equal(await limitsToResources({ cpuShares: 1 }), { cpu: { shares: 2 } });
  assert.equal(await limitsToResources({ cpus: 0.01 }, 2), {
    cpu: { period: 100000, quota: 1000 },
  });
});

for (const [limits, message] of [
  [{ cpus: '0.001' }, /cpus value must be in range 0.01 - 2/],
  [{ cpus: '3' }, /cpus value must be in range/],
  [{ cpus: 'x' }, /invalid cpus value/],
  [{ blkioWeight: 5 }, /blkio-weight must be in range 10-1000/],
  [{ cpuShares: -3 }, /cpu-shares must be in range 2-262144/],
  [{ cpuShares: 262145 }, /cpu-shares must be in range/],
  [{ pidsLimit: -2 }, /invalid pids-limit: -2/],
  [{ memorySwap: 'x' }, /invalid memory-swap value/],
  [{ blkioWeightDevice: ['/dev/null'] }, /<device>:<weight>/],
  [{ blkioWeightDevice: ['/etc/passwd:100'] }, /is not a device/],
  [{ blkioWeightDevice: ['/dev/null:5'] }, /range 10-1000/],
] as const) {
  test(`limitsToResources refuses ${JSON.stringify(limits)}`, async () => {
    await rejects(() => limitsToResources(limits as never, 2), 'ERR_LAUNCH_CGROUPS', message);
  });
}

test('blkio-weight-device takes the major and minor of the device', async () => {
  assert.equal(await limitsToResources({ blkioWeightDevice: ['/dev/null:300'] }), {
    blockIO: { weightDevice: [{ major: 1, minor: 3, weight: 300 }] },
  });
  assert.equal(deviceNumbers(0x0103), { major: 1, minor: 3 });
  assert.equal(deviceNumbers(0x11032c), { major: 259, minor: 300 });
});

test('--apply-cgroups: TOML of LinuxResources keys; not with limit flags; bad files', async () => {
  const file = path.join(dir, 'limits.toml');
  await writeFile(
    file,
    '[memory]\nlimit = 1073741824\n[pids]\nlimit = 1024\n[[devices]]\naccess = "rw"\nallow = false\nmajor = 1\nminor = 3\ntype = "c"\n',
  );
  assert.equal(await loadCgroupsToml(file), {
    memory: { limit: 1073741824 },
    pids: { limit: 1024 },
    devices: [{ access: 'rw', allow: false, major: 1, minor: 3, type: 'c' }],
  });
  assert.equal(await cgroupResources({ applyCgroups: file }), await loadCgroupsToml(file));
  await rejects(
    () => cgroupResources({ applyCgroups: file, limits: { memory: '1G' } }),
    'ERR_LAUNCH_CGROUPS',
    /cannot apply a cgroups TOML file while using limit flags/,
  );
  await writeFile(file, '[memory\n');
  await rejects(() => loadCgroupsToml(file), 'ERR_LAUNCH_CGROUPS', /not valid TOML/);
  await writeFile(file, '[pids]\nlimit = "many"\n');
  await rejects(() => loadCgroupsToml(file), 'ERR_LAUNCH_CGROUPS', /invalid limits/);
  await rejects(
    () => loadCgroupsToml(path.join(dir, 'none.toml')),
    'ERR_LAUNCH_CGROUPS',
    /cannot read/,
  );
});

test('checkCgroupSupport: root yes; rootless no, naming why', async () => {
  checkCgroupSupport({ uid: 0, layout: 'hybrid' });
  checkCgroupSupport({ uid: 0, layout: 'unified' });
  await rejects(
    () => checkCgroupSupport({ uid: 1000, layout: 'hybrid' }),
    'ERR_LAUNCH_CGROUPS',
    /hybrid mode/,
  );
  await rejects(
    () => checkCgroupSupport({ uid: 1000, layout: 'unified' }),
    'ERR_LAUNCH_CGROUPS',
    /rootless/,
  );
  await rejects(
    () => checkCgroupSupport({ uid: 0, layout: 'none' }),
    'ERR_LAUNCH_CGROUPS',
    /no cgroup filesystem/,
  );
});

test('planOverlays: absolute paths, :ro, first on top, upper/ of a read-only overlay, one writable', async () => {
  for (const d of ['a', 'b', 'b/upper', 'w'])
    await mkdir(path.join(dir, 'ov', d), { recursive: true });
  await writeFile(path.join(dir, 'ov', 'file'), '');
  const cwd = path.join(dir, 'ov');
  assert.equal(await planOverlays(['a:ro', `${cwd}/b:ro`, 'w'], cwd), {
    lower: [path.join(cwd, 'a'), path.join(cwd, 'b', 'upper')],
    writable: path.join(cwd, 'w'),
  });
  assert.equal(await planOverlays(['w:rw'], cwd), { lower: [], writable: path.join(cwd, 'w') });
  await rejects(
    () => planOverlays(['a', 'w'], cwd),
    'ERR_LAUNCH_OVERLAY',
    /more than one writable overlay; ".*\/a" has already been specified.*'--overlay .*\/w:ro'/,
  );
  await rejects(
    () => planOverlays(['a:ro', 'a:ro'], cwd),
    'ERR_LAUNCH_OVERLAY',
    /duplicate overlays detected/,
  );
  await rejects(
    () => planOverlays(['nope'], cwd),
    'ERR_LAUNCH_OVERLAY',
    /specified overlay ".*\/nope" does not exist/,
  );
  await rejects(() => planOverlays(['file:ro'], cwd), 'ERR_LAUNCH_OVERLAY', /not a directory/);
});

test('resolveInImage follows symlinks inside the rootfs only', async () => {
  const root = path.join(dir, 'rootfs');
  await mkdir(path.join(root, 'var'), { recursive: true });
  await mkdir(path.join(root, 'tmp'));
  await symlink('../tmp', path.join(root, 'var', 'tmp'));
  await symlink('/../../../etc', path.join(root, 'escape'));
  assert.is(await resolveInImage(root, '/var/tmp'), '/tmp');
  assert.is(await resolveInImage(root, '/tmp'), '/tmp');
  assert.is(await resolveInImage(root, '/escape/passwd'), '/etc/passwd');
  assert.is(await resolveInImage(root, '/missing/x'), '/missing/x');
});

test('LaunchOptionsSchema refuses bad shapes, naming the option key', async () => {
  await rejects(
    () => resolved({ cwd: 'rel' }),
    'ERR_INVALID_OPTIONS',
    /must be an absolute path[\s\S]*at cwd/,
  );
  await rejects(() => resolved({ hostname: '' }), 'ERR_INVALID_OPTIONS', /at hostname/);
  await rejects(
    () => resolved({ limits: { cpuShares: 1.5 } }),
    'ERR_INVALID_OPTIONS',
    /needs a whole number[\s\S]*at limits\.cpuShares/,
  );
  await rejects(
    () => resolved({ env: ['BAD NAME=x'] }),
    'ERR_INVALID_OPTIONS',
    /names must not contain whitespace[\s\S]*at env\.0/,
  );
  await rejects(() => resolved({ env: ['TAB\tNAME=x'] }), 'ERR_INVALID_OPTIONS', /whitespace/);
  await rejects(() => resolved({ env: ['=x'] }), 'ERR_INVALID_OPTIONS', /NAME=value/);
  // a value may hold anything
  assert.equal((await resolved({ env: ['A=b c=d'] })).env, ['A=b c=d']);
});

test('the public option schemas are strict: an unknown key is an error naming it', async () => {
  await rejects(
    () => launch({ image: 'oci:/nonexistent', bind: ['/data'] } as never),
    'ERR_INVALID_OPTIONS',
    /^invalid launch options: .*unknown option "bind"/,
  );
  await rejects(
    () => resolved({ limits: { memroy: '1G' } }),
    'ERR_INVALID_OPTIONS',
    /unknown option "memroy"/,
  );
  const e = await rejects(
    () => pull({ image: 'oci:/nonexistent', binds: [] } as never),
    'ERR_INVALID_OPTIONS',
    /^invalid pull options: .*unknown option "binds"/,
  );
  assert.ok(LaunchError.isInstance(e), "thrown by the launcher's own class");
  await rejects(
    () => listImageCache({ cachedir: '/x' } as never),
    'ERR_INVALID_OPTIONS',
    /unknown option "cachedir"/,
  );
});

test.run();
