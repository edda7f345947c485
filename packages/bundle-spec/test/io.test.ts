import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { minimalSpec } from '../src/builders.js';
import { readSpec, writeSpec } from '../src/io.js';
import type { Spec } from '../src/schemas.js';
import { rejects } from './helpers.js';
import { ociErrors } from './oci-schema.js';

let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-bundle-spec-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('writeSpec writes config.json with mode 0600 and returns its path', async () => {
  const file = await writeSpec(dir, minimalSpec());
  assert.is(file, join(dir, 'config.json'));
  assert.is((await stat(file)).mode & 0o777, 0o600);
  const written = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(written, minimalSpec());
  assert.is(ociErrors(written), '');
  assert.equal(await readdir(dir), ['config.json'], 'no temporary file left behind');
});

test('writeSpec replaces an existing config.json', async () => {
  await writeSpec(dir, minimalSpec());
  const spec = minimalSpec();
  spec.hostname = 'box';
  spec.linux?.namespaces?.push({ type: 'uts' });
  await writeSpec(dir, spec);
  assert.is((await readSpec(dir)).hostname, 'box');
  assert.equal(await readdir(dir), ['config.json']);
});

test('readSpec round-trips what writeSpec wrote, unknown fields included', async () => {
  const spec = { ...minimalSpec(), hooks: { poststop: [{ path: '/bin/true' }] } } as Spec;
  await writeSpec(dir, spec);
  assert.equal(await readSpec(dir), spec);
});

test('writeSpec validates before touching the disk', async () => {
  const bad = { ...minimalSpec(), ociVersion: 'x' };
  await rejects(() => writeSpec(dir, bad), 'ERR_SPEC_INVALID');
  assert.equal(await readdir(dir), []);
});

test('writeSpec into a missing directory is ERR_SPEC_WRITE with a hint', async () => {
  const missing = join(dir, 'nope');
  const e = await rejects(() => writeSpec(missing, minimalSpec()), 'ERR_SPEC_WRITE');
  assert.ok(e.message.includes(join(missing, 'config.json')));
  assert.match(e.hint ?? '', /does not exist/);
  assert.ok(e.cause);
});

test('writeSpec when config.json is a directory cleans up its temporary file', async () => {
  await mkdir(join(dir, 'config.json'));
  await rejects(() => writeSpec(dir, minimalSpec()), 'ERR_SPEC_WRITE');
  assert.equal(await readdir(dir), ['config.json']);
});

test('readSpec of a bundle without config.json is ERR_SPEC_NOT_FOUND naming the path', async () => {
  const e = await rejects(() => readSpec(dir), 'ERR_SPEC_NOT_FOUND');
  assert.is(e.message, `bundle config "${join(dir, 'config.json')}" does not exist`);
});

test('readSpec of bad JSON is ERR_SPEC_INVALID', async () => {
  await writeFile(join(dir, 'config.json'), '{"ociVersion": ');
  await rejects(() => readSpec(dir), 'ERR_SPEC_INVALID', /is not valid json/);
});

test('readSpec of a bad spec is ERR_SPEC_INVALID', async () => {
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ociVersion: '1.0.2' }));
  await rejects(() => readSpec(dir), 'ERR_SPEC_INVALID', /is not a valid runtime spec/);
});

test('readSpec of a directory is ERR_SPEC_READ', async () => {
  await mkdir(join(dir, 'config.json'));
  await rejects(() => readSpec(dir), 'ERR_SPEC_READ');
});

test.run();
