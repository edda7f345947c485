import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHost } from '../src/maps.js';
import { parseProcIdMap, readProcIdMap } from '../src/proc.js';
import { rejects } from './helpers.js';

test('parseProcIdMap reads the kernel layout: inside, outside, count', () => {
  const text = '         0       1000          1\n         1     100000      65536\n';
  assert.equal(parseProcIdMap(text), [
    { containerID: 0, hostID: 1000, size: 1 },
    { containerID: 1, hostID: 100000, size: 65536 },
  ]);
});

test('parseProcIdMap of the initial namespace', () => {
  const maps = parseProcIdMap('         0          0 4294967295\n');
  assert.equal(maps, [{ containerID: 0, hostID: 0, size: 4294967295 }]);
  assert.is(toHost(maps, 4242), 4242);
});

test('parseProcIdMap of an empty map (namespace not set up yet)', () => {
  assert.equal(parseProcIdMap(''), []);
});

test('parseProcIdMap refuses malformed lines', async () => {
  await rejects(() => parseProcIdMap('0 1000\n'), 'ERR_IDMAP_PARSE', /line 1/);
  await rejects(() => parseProcIdMap('0 0 1\n0 x 1\n'), 'ERR_IDMAP_PARSE', /line 2/);
  await rejects(() => parseProcIdMap('0 0 1 2\n'), 'ERR_IDMAP_PARSE');
  await rejects(() => parseProcIdMap('-1 0 1\n'), 'ERR_IDMAP_PARSE');
});

test('readProcIdMap reads this process map', async () => {
  const maps = await readProcIdMap();
  assert.ok(maps.length >= 1);
  const uid = process.getuid?.() ?? 0;
  // our own uid, as seen from the parent namespace, is mapped
  assert.ok(maps.some((m) => uid >= m.containerID && uid < m.containerID + m.size));
  assert.ok(Array.isArray(await readProcIdMap('/proc/self/gid_map')));
});

test('readProcIdMap reads a given file and reports a missing one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-idmap-'));
  try {
    const file = join(dir, 'uid_map');
    await writeFile(file, '0 1000 1\n');
    assert.equal(await readProcIdMap(file), [{ containerID: 0, hostID: 1000, size: 1 }]);
    const e = await rejects(() => readProcIdMap(join(dir, 'gone')), 'ERR_IDMAP_READ');
    assert.ok(e.message.includes(join(dir, 'gone')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
