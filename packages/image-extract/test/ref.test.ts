import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatImageRef, parseImageRef } from '../src/index.js';
import { throws } from './helpers/expect.js';
import { tempDir } from './helpers/layout.js';

test('oci:DIR and oci:DIR:TAG', () => {
  assert.equal(parseImageRef('oci:/abs/dir:tag'), {
    transport: 'oci',
    path: '/abs/dir',
    tag: 'tag',
  });
  assert.equal(parseImageRef('oci:/abs/dir'), { transport: 'oci', path: '/abs/dir' });
  assert.equal(parseImageRef('oci:./x'), { transport: 'oci', path: path.resolve('x') });
  assert.equal(parseImageRef('oci:rel/x:3.20'), {
    transport: 'oci',
    path: path.resolve('rel/x'),
    tag: '3.20',
  });
  // the tag follows the last ':' after the last '/'
  assert.equal(parseImageRef('oci:/a:b/c:d:e'), { transport: 'oci', path: '/a:b/c:d', tag: 'e' });
  assert.equal(parseImageRef('oci:/a:b/c'), { transport: 'oci', path: '/a:b/c' });
});

test('formatImageRef round-trips', () => {
  assert.is(formatImageRef(parseImageRef('oci:/abs/dir:tag')), 'oci:/abs/dir:tag');
  assert.is(formatImageRef(parseImageRef('oci:/abs/dir')), 'oci:/abs/dir');
});

test('a bare path to a layout directory is oci', () => {
  const dir = path.join(tempDir(), 'img');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  assert.equal(parseImageRef(dir), { transport: 'oci', path: dir });
  assert.equal(parseImageRef(`${dir}:v1`), { transport: 'oci', path: dir, tag: 'v1' });
});

test('other transports are not supported yet', () => {
  const e = throws(
    () => parseImageRef('docker://alpine:3.20'),
    'ERR_IMAGE_TRANSPORT_UNSUPPORTED',
    'transport "docker" is not supported yet',
  );
  assert.ok(e.hint);
  throws(
    () => parseImageRef('docker-archive:/x.tar'),
    'ERR_IMAGE_TRANSPORT_UNSUPPORTED',
    '"docker-archive"',
  );
  throws(
    () => parseImageRef('oci-archive:/x.tar'),
    'ERR_IMAGE_TRANSPORT_UNSUPPORTED',
    '"oci-archive"',
  );
});

test('anything else is invalid, with a hint showing accepted forms', () => {
  const e = throws(() => parseImageRef('alpine:3.20'), 'ERR_IMAGE_REF_INVALID', 'alpine:3.20');
  assert.match(e.hint ?? '', /oci:DIR\[:TAG\]/);
  throws(() => parseImageRef(''), 'ERR_IMAGE_REF_INVALID');
  throws(() => parseImageRef('oci:'), 'ERR_IMAGE_REF_INVALID');
  throws(() => parseImageRef('oci:/x:'), 'ERR_IMAGE_REF_INVALID', 'empty tag');
  throws(() => parseImageRef('/definitely/not/here'), 'ERR_IMAGE_REF_INVALID');
});

test.run();
