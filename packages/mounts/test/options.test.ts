import { minimalSpec, validateSpec } from '@berth-oci/bundle-spec';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultMounts } from '../src/defaults.js';
import {
  parseHomeSpec,
  parseMountSpecs,
  parseNoMount,
  parseScratchDirs,
  splitCsv,
  workdirDirectories,
} from '../src/options.js';
import { rejects } from './helpers.js';

// --mount: upstream's ParseMountString cases (pkg/util/bind/mount_test.go)
test('parseMountSpecs: type, src/source, dst/destination/target, ro/readonly', () => {
  for (const [text, want] of [
    [
      'type=bind,source=/opt,destination=/opt',
      { source: '/opt', destination: '/opt', readonly: false },
    ],
    [
      'type=bind,src=/opt,destination=/opt',
      { source: '/opt', destination: '/opt', readonly: false },
    ],
    ['type=bind,source=/opt,dst=/opt', { source: '/opt', destination: '/opt', readonly: false }],
    [
      'type=bind,source=/opt,target=/o//x/',
      { source: '/opt', destination: '/o/x', readonly: false },
    ],
    ['source=/opt,destination=/opt', { source: '/opt', destination: '/opt', readonly: false }],
    [
      'type=bind,source=/opt,destination=/opt,ro',
      { source: '/opt', destination: '/opt', readonly: true },
    ],
    ['src=rel,dst=/opt,readonly', { source: 'rel', destination: '/opt', readonly: true }],
  ] as const) {
    assert.equal(parseMountSpecs([text]), [want], text);
  }
});

test('parseMountSpecs: one mount per line, repeatable, quoted fields', () => {
  assert.equal(parseMountSpecs(['src=/a,dst=/a\nsrc=/b,dst=/b,ro', '"src=/with,comma",dst=/c']), [
    { source: '/a', destination: '/a', readonly: false },
    { source: '/b', destination: '/b', readonly: true },
    { source: '/with,comma', destination: '/c', readonly: false },
  ]);
});

for (const [text, code, message] of [
  ['type=bind,source=/opt', 'ERR_MOUNTS_MOUNT_SPEC', /must specify a source and a destination/],
  [
    'type=bind,destination=/opt',
    'ERR_MOUNTS_MOUNT_SPEC',
    /must specify a source and a destination/,
  ],
  ['type=bind,source=,destination=/opt', 'ERR_MOUNTS_MOUNT_SPEC', /source cannot be empty/],
  ['type=bind,source=/opt,destination=', 'ERR_MOUNTS_MOUNT_SPEC', /destination cannot be empty/],
  [
    'type=potato,source=/opt,destination=/opt',
    'ERR_MOUNTS_MOUNT_SPEC',
    /unsupported mount type "potato"/,
  ],
  [
    'type=bind,source=/opt,destination=/opt,color=turquoise',
    'ERR_MOUNTS_MOUNT_SPEC',
    /invalid key "color"/,
  ],
  ['src=/opt,dst=/opt,rw', 'ERR_MOUNTS_MOUNT_SPEC', /invalid key "rw"/],
  ['src=/opt,dst=/opt,bind-propagation=shared', 'ERR_MOUNTS_MOUNT_SPEC', /bind-propagation/],
  ['src=x.sif,dst=/opt,image-src=/', 'ERR_MOUNTS_BIND_UNSUPPORTED', /image-src/],
  ['src=x.sif,dst=/opt,id=2', 'ERR_MOUNTS_BIND_UNSUPPORTED', /"id"/],
  ['src=/opt,dst=opt', 'ERR_MOUNTS_BIND_DESTINATION', /must be an absolute path/],
  ['src=/opt,dst=/', 'ERR_MOUNTS_BIND_DESTINATION', /container root/],
  ['src="/opt,dst=/x', 'ERR_MOUNTS_MOUNT_SPEC', /bare "/],
  ['"src=/opt,dst=/x', 'ERR_MOUNTS_MOUNT_SPEC', /not closed/],
  ['', 'ERR_MOUNTS_MOUNT_SPEC', /mount specification "" names no mount/],
  ['\n\n', 'ERR_MOUNTS_MOUNT_SPEC', /names no mount/],
] as const) {
  test(`parseMountSpecs refuses ${text}`, async () => {
    await rejects(() => parseMountSpecs([text]), code, message);
  });
}

test('splitCsv: Go encoding/csv records', () => {
  assert.equal(splitCsv('a,b\n\nc'), [['a', 'b'], ['c']]);
  assert.equal(splitCsv('"x""y",z'), [['x"y', 'z']]);
  assert.equal(splitCsv(''), []);
});

test('parseHomeSpec: dst is a tmpfs there, src:dst a bind; errors as upstream', async () => {
  assert.equal(parseHomeSpec('/myhomeloc'), { destination: '/myhomeloc' });
  assert.equal(parseHomeSpec('/tmp:/home'), { source: '/tmp', destination: '/home' });
  assert.equal(parseHomeSpec('data:/home/u/', '/work'), {
    source: '/work/data',
    destination: '/home/u',
  });
  await rejects(() => parseHomeSpec('/a:/b:/c'), 'ERR_MOUNTS_HOME', /incorrect number of elements/);
  await rejects(() => parseHomeSpec(''), 'ERR_MOUNTS_HOME', /empty destination/);
  await rejects(() => parseHomeSpec('/a:'), 'ERR_MOUNTS_HOME', /empty destination/);
  await rejects(() => parseHomeSpec('home'), 'ERR_MOUNTS_HOME', /absolute/);
  await rejects(() => parseHomeSpec(':/home'), 'ERR_MOUNTS_HOME', /source is empty/);
});

test('parseScratchDirs: comma lists, clean absolute paths, no duplicates', async () => {
  assert.equal(parseScratchDirs(['/a,/b/', ' /c ', '/a']), ['/a', '/b', '/c']);
  await rejects(() => parseScratchDirs(['scratch']), 'ERR_MOUNTS_SCRATCH', /absolute/);
  await rejects(() => parseScratchDirs(['/']), 'ERR_MOUNTS_SCRATCH');
});

test('parseNoMount: names and paths; dev and devpts refused; unknown words returned', async () => {
  assert.equal(
    parseNoMount(['proc,sys', 'tmp', 'home,/etc/resolv.conf/', 'cwd', 'bind-paths,frob']),
    {
      names: ['proc', 'sys', 'tmp', 'home', '/etc/resolv.conf', 'cwd', 'bind-paths'],
      unknown: ['frob'],
    },
  );
  await rejects(() => parseNoMount(['proc,dev']), 'ERR_MOUNTS_NO_MOUNT_REQUIRED', /--no-mount dev/);
  await rejects(() => parseNoMount(['devpts']), 'ERR_MOUNTS_NO_MOUNT_REQUIRED', /\/dev\/pts/);
});

test('workdirDirectories: tmp, var_tmp, and scratch with its parents', async () => {
  assert.equal(workdirDirectories('/w'), ['/w/tmp', '/w/var_tmp']);
  assert.equal(workdirDirectories('/w', ['/s', '/a/b']), [
    '/w/tmp',
    '/w/var_tmp',
    '/w/scratch',
    '/w/scratch/s',
    '/w/scratch/a',
    '/w/scratch/a/b',
  ]);
  await rejects(() => workdirDirectories('w'), 'ERR_MOUNTS_WORKDIR');
});

const user = { hostRoot: false, homeDest: '/home/u', homeUid: 1000, homeGid: 1000 };
const at = (mounts: ReturnType<typeof defaultMounts>, dst: string) =>
  mounts.filter((m) => m.destination === dst);

test('defaultMounts --workdir: /tmp and /var/tmp from it, scratch binds below W/scratch', () => {
  const m = defaultMounts({ ...user, workdir: '/w', scratch: ['/s1', '/a/b'] });
  assert.equal(at(m, '/tmp'), [
    { destination: '/tmp', type: 'none', source: '/w/tmp', options: ['rbind', 'nosuid'] },
  ]);
  assert.equal(at(m, '/var/tmp'), [
    { destination: '/var/tmp', type: 'none', source: '/w/var_tmp', options: ['rbind', 'nosuid'] },
  ]);
  assert.equal(at(m, '/a/b'), [
    {
      destination: '/a/b',
      type: 'none',
      source: '/w/scratch/a/b',
      options: ['rbind', 'nodev', 'nosuid'],
    },
  ]);
  // order: ..., /tmp, /var/tmp, home, scratch
  assert.equal(
    m.slice(-5).map((x) => x.destination),
    ['/tmp', '/var/tmp', '/home/u', '/s1', '/a/b'],
  );
});

test('defaultMounts --scratch without a workdir: tmpfs; --allow-setuid drops nosuid', () => {
  assert.equal(at(defaultMounts({ ...user, scratch: ['/s'] }), '/s'), [
    {
      destination: '/s',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['relatime', 'nodev', 'size=64m', 'nosuid'],
    },
  ]);
  assert.equal(
    at(defaultMounts({ ...user, scratch: ['/s'], allowSetuid: true }), '/s')[0]?.options,
    ['relatime', 'nodev', 'size=64m'],
  );
  assert.equal(
    at(defaultMounts({ ...user, workdir: '/w', allowSetuid: true }), '/tmp')[0]?.options,
    ['rbind'],
  );
});

test('defaultMounts home: a bind of homeSource, none with noHome', () => {
  assert.equal(at(defaultMounts({ ...user, homeSource: 'h', cwd: '/host' }), '/home/u'), [
    {
      destination: '/home/u',
      type: 'none',
      source: '/host/h',
      options: ['rbind', 'nodev', 'nosuid'],
    },
  ]);
  assert.equal(at(defaultMounts({ ...user, noHome: true }), '/home/u'), []);
});

test('defaultMounts --no-compat: host /tmp and /var/tmp binds win over the workdir', () => {
  const m = defaultMounts({ ...user, hostTmp: true, workdir: '/w' });
  assert.equal(at(m, '/tmp'), [
    { destination: '/tmp', type: 'none', source: '/tmp', options: ['rbind', 'nodev', 'nosuid'] },
  ]);
  assert.equal(at(m, '/var/tmp')[0]?.source, '/var/tmp');
});

test('defaultMounts devBind: the host /dev and a devpts, no minimal /dev', () => {
  const m = defaultMounts({ ...user, devBind: true });
  assert.equal(at(m, '/dev')[0], {
    destination: '/dev',
    type: 'bind',
    source: '/dev',
    options: ['nosuid', 'rprivate', 'rbind', 'rw'],
  });
  assert.equal(at(m, '/dev/shm'), []);
  assert.is(at(m, '/dev/pts').length, 1);
});

test('defaultMounts keepPrivs: the cgroup mount is read-write', () => {
  const m = defaultMounts({ ...user, cgroupNamespace: true, keepPrivs: true });
  assert.equal(at(m, '/sys/fs/cgroup')[0]?.options, ['nosuid', 'noexec', 'nodev', 'rw']);
});

test('every variant makes a valid spec', () => {
  for (const extra of [
    { workdir: '/w', scratch: ['/s'] },
    { hostTmp: true, homeSource: '/h', devBind: true },
    { noHome: true, scratch: ['/x', '/y'], allowSetuid: true },
  ]) {
    const spec = minimalSpec();
    spec.mounts = defaultMounts({ ...user, ...extra });
    validateSpec(spec);
  }
});

test.run();
