import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ALL_CAPABILITIES,
  capabilitySet,
  DEFAULT_CAPABILITIES,
  normalizeCapabilities,
} from '../src/capabilities.js';
import { BundleSpecError } from '../src/errors.js';
import { rejects } from './helpers.js';

test("DEFAULT_CAPABILITIES is SingularityCE's default list, in order", () => {
  const expected =
    'NET_RAW NET_BIND_SERVICE AUDIT_READ AUDIT_WRITE DAC_OVERRIDE SETFCAP SETPCAP SETGID ' +
    'SETUID MKNOD CHOWN FOWNER FSETID KILL SYS_CHROOT';
  assert.equal(
    [...DEFAULT_CAPABILITIES],
    expected.split(' ').map((name) => `CAP_${name}`),
  );
});

test('DEFAULT_CAPABILITIES is 0x20a80425fb as upstream shows it in /proc/self/status', () => {
  let mask = 0n;
  for (const c of DEFAULT_CAPABILITIES) mask |= 1n << BigInt(ALL_CAPABILITIES.indexOf(c));
  assert.is(mask, 0x20a80425fbn);
});

test('ALL_CAPABILITIES holds the 41 kernel capabilities without duplicates', () => {
  assert.is(ALL_CAPABILITIES.length, 41);
  assert.is(new Set(ALL_CAPABILITIES).size, 41);
  assert.is(ALL_CAPABILITIES[21], 'CAP_SYS_ADMIN');
  assert.is(ALL_CAPABILITIES[40], 'CAP_CHECKPOINT_RESTORE');
  assert.ok(Object.isFrozen(ALL_CAPABILITIES));
});

test('normalizeCapabilities upper-cases, prefixes, splits commas and dedupes', () => {
  assert.equal(normalizeCapabilities(['chown', 'CAP_kill', ' sys_admin ,net_raw', 'CHOWN', '']), {
    known: ['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_ADMIN', 'CAP_NET_RAW'],
    unknown: [],
  });
});

test('normalizeCapabilities reports unknown names as given', () => {
  assert.equal(normalizeCapabilities(['chown', 'bogus', 'cap_nope', 'bogus']), {
    known: ['CAP_CHOWN'],
    unknown: ['bogus', 'cap_nope'],
  });
});

test('normalizeCapabilities expands ALL (any case) to every capability', () => {
  assert.equal(normalizeCapabilities(['all']).known, [...ALL_CAPABILITIES]);
  assert.equal(normalizeCapabilities(['kill', 'ALL']).known.length, 41);
  assert.is(normalizeCapabilities(['kill', 'ALL']).known[0], 'CAP_KILL');
});

test('capabilitySet for uid 0: permitted = effective = bounding = defaults', () => {
  const caps = capabilitySet({ targetUid: 0 });
  assert.equal(caps.bounding, [...DEFAULT_CAPABILITIES]);
  assert.equal(caps.permitted, [...DEFAULT_CAPABILITIES]);
  assert.equal(caps.effective, [...DEFAULT_CAPABILITIES]);
  assert.equal(caps.inheritable, []);
  assert.equal(caps.ambient, []);
});

test('capabilitySet for a user: bounding = defaults, the rest empty (as SingularityCE sets it)', () => {
  assert.equal(capabilitySet({ targetUid: 1000 }), {
    bounding: [...DEFAULT_CAPABILITIES],
    effective: [],
    inheritable: [],
    permitted: [],
    ambient: [],
  });
});

test('capabilitySet: caps = dedupe(base + add) - drop', () => {
  const caps = capabilitySet({
    targetUid: 0,
    add: ['sys_admin', 'chown'],
    drop: ['net_raw', 'CAP_MKNOD'],
  });
  const expected = [
    ...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_NET_RAW' && c !== 'CAP_MKNOD'),
    'CAP_SYS_ADMIN',
  ];
  assert.equal(caps.bounding, expected);
  assert.equal(caps.permitted, expected);
  assert.equal(caps.effective, expected);
  assert.equal(caps.ambient, []);
});

test('capabilitySet for a user: the explicit adds less drops go to the four other sets', () => {
  const caps = capabilitySet({
    targetUid: 1000,
    add: ['sys_admin', 'sys_ptrace', 'chown'],
    drop: ['sys_ptrace'],
  });
  assert.equal(caps.bounding, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
  for (const set of ['effective', 'permitted', 'inheritable', 'ambient'] as const) {
    assert.equal(caps[set], ['CAP_SYS_ADMIN', 'CAP_CHOWN'], set);
  }
});

test('capabilitySet: base [] (--no-privs) and drop ALL', () => {
  assert.equal(capabilitySet({ targetUid: 0, base: [] }).bounding, []);
  assert.equal(capabilitySet({ targetUid: 0, base: [], add: ['kill'] }).bounding, ['CAP_KILL']);
  const none = capabilitySet({ targetUid: 1000, add: ['kill'], drop: ['all'] });
  assert.equal(none.bounding, []);
  assert.equal(none.ambient, []);
});

test('capabilitySet: a full base (--keep-privs)', () => {
  assert.equal(capabilitySet({ targetUid: 0, base: ['ALL'] }).bounding, [...ALL_CAPABILITIES]);
});

test('capabilitySet refuses unknown names and bad options', async () => {
  await rejects(
    () => capabilitySet({ targetUid: 0, add: ['bogus'] }),
    'ERR_SPEC_UNKNOWN_CAPABILITY',
    /bogus/,
  );
  await rejects(() => capabilitySet({ targetUid: -1 }), 'ERR_INVALID_OPTIONS');
  await rejects(() => capabilitySet({ targetUid: 0, add: 'kill' } as never), 'ERR_INVALID_OPTIONS');
});

test('bad options are a BundleSpecError, and an unknown key is named', async () => {
  const e = await rejects(
    () => capabilitySet({ targetUid: 0, adds: ['CAP_KILL'] } as never),
    'ERR_INVALID_OPTIONS',
    /adds/,
  );
  assert.ok(BundleSpecError.isInstance(e));
  assert.is((e as Error).name, 'BundleSpecError');
});

test.run();
