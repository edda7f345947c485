import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { innerMap, outerMap, singleMap, toContainer, toHost } from '../src/maps.js';
import type { IdMapping } from '../src/types.js';
import { rejects } from './helpers.js';

test('outerMap maps the host id to 0 and the range to 1..count', () => {
  assert.equal(outerMap(1000, { start: 100000, count: 65536 }), [
    { containerID: 0, hostID: 1000, size: 1 },
    { containerID: 1, hostID: 100000, size: 65536 },
  ]);
});

test('outerMap validates', async () => {
  await rejects(() => outerMap(-1, { start: 1, count: 1 }), 'ERR_INVALID_OPTIONS');
  await rejects(() => outerMap(1, { start: 1, count: 0 }), 'ERR_INVALID_OPTIONS');
});

test('singleMap maps only the host id to 0', () => {
  assert.equal(singleMap(1234), [{ containerID: 0, hostID: 1234, size: 1 }]);
  assert.is(toHost(singleMap(1234), 1), undefined);
});

test('innerMap: the upstream example T=1000, S=65536', () => {
  assert.equal(innerMap(1000, 65536), [
    { containerID: 0, hostID: 1, size: 1000 },
    { containerID: 1000, hostID: 0, size: 1 },
    { containerID: 1001, hostID: 1001, size: 64536 },
  ]);
});

test('innerMap: the upstream example G=2000, S=65536 (gids)', () => {
  assert.equal(innerMap(2000, 65536), [
    { containerID: 0, hostID: 1, size: 2000 },
    { containerID: 2000, hostID: 0, size: 1 },
    { containerID: 2001, hostID: 2001, size: 63536 },
  ]);
});

test('innerMap: the upstream example T=70000 (T >= S)', () => {
  assert.equal(innerMap(70000, 65536), [
    { containerID: 0, hostID: 1, size: 65536 },
    { containerID: 70000, hostID: 0, size: 1 },
  ]);
});

test('innerMap: T == S takes the T >= S branch', () => {
  assert.equal(innerMap(65536, 65536), [
    { containerID: 0, hostID: 1, size: 65536 },
    { containerID: 65536, hostID: 0, size: 1 },
  ]);
});

test('innerMap: T = S-1 leaves a last entry of one id', () => {
  assert.equal(innerMap(65535, 65536)[2], { containerID: 65536, hostID: 65536, size: 1 });
});

test('innerMap: target 0 drops the empty entry and is the identity on 0..S', () => {
  const m = innerMap(0, 65536);
  assert.equal(m, [
    { containerID: 0, hostID: 0, size: 1 },
    { containerID: 1, hostID: 1, size: 65536 },
  ]);
});

test('innerMap: a range below 65536 is ERR_IDMAP_RANGE_TOO_SMALL', async () => {
  await rejects(
    () => innerMap(1000, 65535),
    'ERR_IDMAP_RANGE_TOO_SMALL',
    /^subuid range size \(65535\) must be at least 65536$/,
  );
});

test('innerMap validates its numbers', async () => {
  await rejects(() => innerMap(1.5, 65536), 'ERR_INVALID_OPTIONS');
  await rejects(() => innerMap(1000, Number.NaN), 'ERR_INVALID_OPTIONS');
});

/** Host id of container id `x` through the inner then the outer map. */
function throughBoth(inner: IdMapping[], outer: IdMapping[], x: number): number | undefined {
  const mid = toHost(inner, x);
  return mid === undefined ? undefined : toHost(outer, mid);
}

test('inner + outer: container T is the host user, others land on subuids', () => {
  const start = 100000;
  const S = 65536;
  const T = 1000;
  const outer = outerMap(T, { start, count: S });
  const inner = innerMap(T, S);
  assert.is(throughBoth(inner, outer, T), T);
  assert.is(throughBoth(inner, outer, 0), start);
  assert.is(throughBoth(inner, outer, 999), start + 999);
  assert.is(throughBoth(inner, outer, 1001), start + 1000);
  assert.is(throughBoth(inner, outer, S), start + S - 1);
  assert.is(throughBoth(inner, outer, S + 1), undefined);
  // every mapped container id lands on a distinct host id
  const seen = new Set<number>();
  for (let x = 0; x <= S; x++) {
    const h = throughBoth(inner, outer, x);
    assert.ok(h !== undefined, `container id ${x} unmapped`);
    assert.not.ok(seen.has(h as number), `host id ${h} used twice`);
    seen.add(h as number);
  }
});

test('inner + outer with T >= S: T is the host user, 0..S-1 are subuids', () => {
  const outer = outerMap(70000, { start: 100000, count: 65536 });
  const inner = innerMap(70000, 65536);
  assert.is(throughBoth(inner, outer, 70000), 70000);
  assert.is(throughBoth(inner, outer, 0), 100000);
  assert.is(throughBoth(inner, outer, 65535), 165535);
  assert.is(throughBoth(inner, outer, 65536), undefined);
});

test('toHost and toContainer are inverse on mapped ids and undefined elsewhere', () => {
  const m = innerMap(1000, 65536);
  assert.is(toHost(m, 5), 6);
  assert.is(toContainer(m, 6), 5);
  assert.is(toContainer(m, 0), 1000);
  assert.is(toContainer(m, 1001), 1001);
  assert.is(toContainer(m, 65537), undefined);
  assert.is(toHost(m, 65537), undefined);
  assert.is(toHost(m, -1), undefined);
  assert.is(toHost(m, 1.5), undefined);
  assert.is(toContainer(m, Number.NaN), undefined);
  assert.is(toHost([], 0), undefined);
});

test.run();
