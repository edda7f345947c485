import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IdmapError } from '../src/errors.js';
import { parseSubid, readSubidRange, selectSubidRange } from '../src/subid.js';
import { rejects } from './helpers.js';

const alice = { name: 'alice', uid: 1000 };

test('parseSubid reads names, uids, disabled entries, comments, blank lines and CRLF', () => {
  const text =
    '# comment\r\nalice:100000:65536\r\n\r\n  \n!bob:200000:65536\n1002:300000:131072\n   # indented comment\n';
  assert.equal(parseSubid(text, '/etc/subuid'), [
    { owner: 'alice', start: 100000, count: 65536, disabled: false, line: 2 },
    { owner: 'bob', start: 200000, count: 65536, disabled: true, line: 5 },
    { owner: '1002', start: 300000, count: 131072, disabled: false, line: 6 },
  ]);
});

test('parseSubid of an empty file is empty', () => {
  assert.equal(parseSubid(''), []);
  assert.equal(parseSubid('\n\n# only comments\n'), []);
});

for (const [line, why] of [
  ['alice:100000', /3 fields/],
  ['alice:100000:65536:1', /3 fields/],
  [':100000:65536', /owner is empty/],
  ['!:100000:65536', /owner is empty/],
  ['al ice:100000:65536', /white space/],
  ['alice:-1:65536', /start "-1"/],
  ['alice:abc:65536', /start "abc"/],
  ['alice:100000:0x10', /count "0x10"/],
  ['alice:100000:', /count ""/],
  ['alice:1e5:65536', /start "1e5"/],
  ['alice:4294967295:1', /larger than/],
  ['alice:4294967290:100', /ends past/],
] as const) {
  test(`parseSubid refuses ${JSON.stringify(line)} naming file and line`, async () => {
    const e = await rejects(
      () => parseSubid(`# header\nbob:1:65536\n${line}\n`, '/etc/subgid'),
      'ERR_IDMAP_PARSE',
      why,
    );
    assert.match(e.message, /in \/etc\/subgid at line 3/);
    assert.match(e.hint ?? '', /name_or_uid:start:count/);
  });
}

test('selectSubidRange prefers the first entry of exactly 65536', () => {
  const entries = parseSubid(
    'alice:500000:200000\nbob:1:65536\nalice:100000:65536\nalice:300000:65536\n',
  );
  assert.equal(selectSubidRange(entries, alice), { start: 100000, count: 65536 });
});

test('selectSubidRange otherwise takes the largest range above 65536', () => {
  const entries = parseSubid('alice:100000:70000\nalice:300000:900000\nalice:2000000:100000\n');
  assert.equal(selectSubidRange(entries, alice), { start: 300000, count: 900000 });
});

test('selectSubidRange ignores small ranges next to a usable one', () => {
  const entries = parseSubid('alice:1:1000\nalice:100000:80000\n');
  assert.equal(selectSubidRange(entries, alice), { start: 100000, count: 80000 });
});

test('selectSubidRange matches the decimal uid as well as the name', () => {
  const entries = parseSubid('bob:1:65536\n1000:400000:65536\n');
  assert.equal(selectSubidRange(entries, alice), { start: 400000, count: 65536 });
  assert.equal(selectSubidRange(entries, { name: 'renamed', uid: 1000 }), {
    start: 400000,
    count: 65536,
  });
});

test('selectSubidRange skips disabled entries when an enabled one exists', () => {
  const entries = parseSubid('!alice:100000:65536\nalice:300000:65536\n');
  assert.equal(selectSubidRange(entries, alice), { start: 300000, count: 65536 });
});

test('selectSubidRange: only disabled entries is ERR_IDMAP_DISABLED', async () => {
  const entries = parseSubid('!alice:100000:65536\nbob:200000:65536\n');
  const e = await rejects(
    () => selectSubidRange(entries, alice, '/etc/subuid'),
    'ERR_IDMAP_DISABLED',
    /alice in \/etc\/subuid has been disabled by the administrator/,
  );
  assert.match(e.hint ?? '', /"!"/);
});

test('selectSubidRange: a disabled usable range next to small ones is ERR_IDMAP_DISABLED', async () => {
  const entries = parseSubid('alice:1:100\n!alice:100000:65536\n');
  await rejects(() => selectSubidRange(entries, alice), 'ERR_IDMAP_DISABLED');
});

test('selectSubidRange: only small ranges is ERR_IDMAP_RANGE_TOO_SMALL', async () => {
  const entries = parseSubid('alice:100000:65535\nalice:200000:1000\n');
  await rejects(
    () => selectSubidRange(entries, alice, '/etc/subuid'),
    'ERR_IDMAP_RANGE_TOO_SMALL',
    /^mapping entries for user alice found in \/etc\/subuid but all with a range count lower than 65536$/,
  );
});

test('selectSubidRange: no entry is ERR_IDMAP_NO_ENTRY with the usermod hint', async () => {
  const entries = parseSubid('bob:100000:65536\n1001:200000:65536\n');
  const e = await rejects(
    () => selectSubidRange(entries, alice, '/etc/subuid'),
    'ERR_IDMAP_NO_ENTRY',
    /^no mapping entry found in \/etc\/subuid for alice$/,
  );
  assert.match(
    e.hint ?? '',
    /usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice$/,
  );
});

test('selectSubidRange validates the user', async () => {
  await rejects(() => selectSubidRange([], { name: 'x', uid: -1 }), 'ERR_INVALID_OPTIONS');
});

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-idmap-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('readSubidRange reads a file and looks gids up by the user', async () => {
  const file = join(dir, 'subgid');
  await writeFile(file, 'alice:165536:65536\n');
  assert.equal(await readSubidRange('gid', alice, { file }), { start: 165536, count: 65536 });
});

test('readSubidRange: a missing file is ERR_IDMAP_NO_ENTRY naming it', async () => {
  const file = join(dir, 'nope');
  const e = await rejects(() => readSubidRange('uid', alice, { file }), 'ERR_IDMAP_NO_ENTRY');
  assert.ok(e.message.includes(file));
});

test('readSubidRange: errors name the file read', async () => {
  const file = join(dir, 'subuid');
  await writeFile(file, 'alice:1:2:3\n');
  const e = await rejects(() => readSubidRange('uid', alice, { file }), 'ERR_IDMAP_PARSE');
  assert.ok(e.message.includes(`${file} at line 1`));
  await writeFile(file, 'bob:1:65536\n');
  const e2 = await rejects(() => readSubidRange('uid', alice, { file }), 'ERR_IDMAP_NO_ENTRY');
  assert.ok(e2.message.includes(file));
});

test('readSubidRange: a directory is ERR_IDMAP_READ', async () => {
  await rejects(() => readSubidRange('uid', alice, { file: dir }), 'ERR_IDMAP_READ');
});

test('readSubidRange validates its arguments', async () => {
  await rejects(() => readSubidRange('pid' as 'uid', alice), 'ERR_INVALID_OPTIONS');
  await rejects(() => readSubidRange('uid', alice, { file: '' }), 'ERR_INVALID_OPTIONS');
});

test('invalid options are an IdmapError naming an unknown key', async () => {
  const e = await rejects(
    () => readSubidRange('uid', alice, { fle: '/etc/subuid' } as never),
    'ERR_INVALID_OPTIONS',
    /fle/,
  );
  assert.ok(IdmapError.isInstance(e));
  assert.is((e as Error).name, 'IdmapError');
});

test.run();
