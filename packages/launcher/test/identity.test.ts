import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ownerFunction, type UsernsPlan, unshareUserArgs } from '../src/identity.js';

test('ownerFunction maps image ids through the inner map; unmapped ids go to the image root owner', () => {
  const f = ownerFunction({
    uid: [
      { containerID: 0, hostID: 1, size: 1000 },
      { containerID: 1000, hostID: 0, size: 1 },
      { containerID: 1001, hostID: 1001, size: 64536 },
    ],
    gid: [{ containerID: 0, hostID: 1, size: 65536 }],
  });
  assert.equal(f(0, 0), [1, 1]);
  assert.equal(f(1000, 5), [0, 6]);
  assert.equal(f(1234, 1234), [1234, 1235]);
  assert.equal(f(70000, 70000), [1, 1]);
});

test('unshareUserArgs: map-root-user plus the subordinate block', () => {
  const plan = {
    kind: 'subid',
    outerUid: [
      { containerID: 0, hostID: 1000, size: 1 },
      { containerID: 1, hostID: 100000, size: 65536 },
    ],
    outerGid: [
      { containerID: 0, hostID: 1000, size: 1 },
      { containerID: 1, hostID: 200000, size: 65536 },
    ],
  } as UsernsPlan;
  assert.equal(unshareUserArgs(plan), [
    '--map-root-user',
    '--map-users=100000,1,65536',
    '--map-groups=200000,1,65536',
  ]);
  assert.equal(unshareUserArgs({ ...plan, kind: 'root' }), []);
});

test.run();
