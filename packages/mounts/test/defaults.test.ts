import { minimalSpec, validateSpec } from '@berth-oci/bundle-spec';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultMounts } from '../src/defaults.js';
import { MountsError } from '../src/errors.js';
import { rejects } from './helpers.js';

const user = { hostRoot: false, homeDest: '/home/u', homeUid: 1000, homeGid: 1000 };

test("defaultMounts as a user with a cgroup namespace matches SingularityCE's", () => {
  assert.equal(defaultMounts({ ...user, cgroupNamespace: true }), [
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
      destination: '/var/tmp',
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
  ]);
});

test('defaultMounts without a cgroup namespace has no /sys/fs/cgroup', () => {
  const mounts = defaultMounts(user);
  assert.not.ok(mounts.some((m) => m.destination === '/sys/fs/cgroup'));
  assert.equal(
    mounts.map((m) => m.destination),
    ['/proc', '/sys', '/dev', '/dev/shm', '/dev/mqueue', '/dev/pts', '/tmp', '/var/tmp', '/home/u'],
  );
});

test('defaultMounts as host root: sysfs, devpts gid=<tty>', () => {
  const mounts = defaultMounts({
    hostRoot: true,
    homeDest: '/root',
    ttyGid: 5,
    homeUid: 0,
    homeGid: 0,
  });
  assert.equal(mounts[1], {
    destination: '/sys',
    type: 'sysfs',
    source: 'sysfs',
    options: ['nosuid', 'noexec', 'nodev', 'ro'],
  });
  const pts = mounts.find((m) => m.destination === '/dev/pts');
  assert.equal(pts?.options, [
    'nosuid',
    'noexec',
    'newinstance',
    'ptmxmode=0666',
    'mode=0620',
    'gid=5',
  ]);
});

test('defaultMounts: devpts gets no gid= without host root, or without a tty gid', () => {
  const asUser = defaultMounts({ ...user, ttyGid: 5 }).find((m) => m.destination === '/dev/pts');
  assert.not.ok(asUser?.options?.some((o) => o.startsWith('gid=')));
  const noTty = defaultMounts({ hostRoot: true, homeDest: '/root' }).find(
    (m) => m.destination === '/dev/pts',
  );
  assert.not.ok(noTty?.options?.some((o) => o.startsWith('gid=')));
});

test('defaultMounts with noPid binds the host /proc', () => {
  assert.equal(defaultMounts({ ...user, noPid: true })[0], {
    destination: '/proc',
    type: 'none',
    source: '/proc',
    options: ['rbind', 'nodev', 'nosuid', 'noexec'],
  });
});

test('defaultMounts uses sessionSizeMiB for every sized tmpfs', () => {
  const mounts = defaultMounts({ ...user, sessionSizeMiB: 128 });
  const sized = mounts.filter((m) => m.options?.some((o) => o.startsWith('size=')));
  assert.equal(
    sized.map((m) => m.destination),
    ['/dev', '/dev/shm', '/tmp', '/var/tmp', '/home/u'],
  );
  for (const m of sized) assert.ok(m.options?.includes('size=128m'), m.destination);
});

test('defaultMounts under fakeroot: a home tmpfs without uid/gid', () => {
  const home = defaultMounts({ hostRoot: false, homeDest: '/root' }).at(-1);
  assert.equal(home, {
    destination: '/root',
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['relatime', 'mode=755', 'size=64m', 'nosuid'],
  });
});

test('defaultMounts with allowSetuid leaves nosuid off the home tmpfs only', () => {
  const mounts = defaultMounts({ ...user, allowSetuid: true });
  assert.equal(mounts.at(-1)?.options, [
    'relatime',
    'mode=755',
    'size=64m',
    'uid=1000',
    'gid=1000',
  ]);
  assert.ok(mounts[0]?.options?.includes('nosuid'));
});

test('defaultMounts cleans the home destination', () => {
  assert.is(defaultMounts({ ...user, homeDest: '//home/./u/' }).at(-1)?.destination, '/home/u');
});

test('defaultMounts: --no-mount proc, sys, tmp, home skip those mounts', () => {
  const dests = (noMount: string[]) =>
    defaultMounts({ ...user, cgroupNamespace: true, noMount }).map((m) => m.destination);
  assert.not.ok(dests(['proc']).includes('/proc'));
  const noSys = dests(['sys']);
  assert.not.ok(noSys.includes('/sys'));
  assert.not.ok(noSys.includes('/sys/fs/cgroup'), 'the cgroup mount goes with /sys');
  const noTmp = dests(['tmp']);
  assert.not.ok(noTmp.includes('/tmp'));
  assert.not.ok(noTmp.includes('/var/tmp'));
  assert.not.ok(dests(['home']).includes('/home/u'));
  assert.equal(dests(['proc', 'sys', 'tmp', 'home']), [
    '/dev',
    '/dev/shm',
    '/dev/mqueue',
    '/dev/pts',
  ]);
});

test('defaultMounts ignores --no-mount values it does not handle', () => {
  assert.equal(
    defaultMounts({ ...user, noMount: ['cwd', '/etc/resolv.conf', 'bind-paths'] }),
    defaultMounts(user),
  );
});

for (const [value, path] of [
  ['dev', '/dev'],
  ['devpts', '/dev/pts'],
] as const) {
  test(`defaultMounts: --no-mount ${value} is ERR_MOUNTS_NO_MOUNT_REQUIRED`, async () => {
    const e = await rejects(
      () => defaultMounts({ ...user, noMount: ['tmp', value] }),
      'ERR_MOUNTS_NO_MOUNT_REQUIRED',
    );
    assert.is(
      e.message,
      `oci mode requires ${path} to be mounted, but '--no-mount ${value}' was requested`,
    );
    assert.ok(e.hint);
  });
}

for (const [what, bad] of [
  ['an empty home destination', { homeDest: '' }],
  ['a relative home destination', { homeDest: 'home/u' }],
  ['a home destination above /', { homeDest: '/..' }],
  ['a zero session size', { sessionSizeMiB: 0 }],
  ['a negative uid', { homeUid: -1 }],
  ['a missing hostRoot', { hostRoot: undefined }],
  ['an unknown key', { homeDst: '/home/u' }],
] as const) {
  test(`defaultMounts refuses ${what}`, async () => {
    await rejects(() => defaultMounts({ ...user, ...bad } as never), 'ERR_INVALID_OPTIONS');
  });
}

test('bad options are a MountsError naming the unknown key', async () => {
  const e = await rejects(
    () => defaultMounts({ ...user, noPID: true } as never),
    'ERR_INVALID_OPTIONS',
    /noPID/,
  );
  assert.ok(MountsError.isInstance(e));
});

test('every default mount set is a valid spec', () => {
  for (const hostRoot of [false, true]) {
    for (const noPid of [false, true]) {
      const spec = minimalSpec();
      spec.mounts = defaultMounts({ ...user, hostRoot, noPid, cgroupNamespace: true, ttyGid: 5 });
      validateSpec(spec);
    }
  }
});

test.run();
