import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type DockerRef, formatImageRef, parseImageRef } from '../src/core/image-ref.js';
import { throws } from './helpers/expect.js';
import { tempDir } from './helpers/layout.js';
import { makeTar } from './helpers/tar-writer.js';

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

test('docker:// references, with Docker Hub normalisation', () => {
  const d = (r: string) => parseImageRef(r) as DockerRef;
  assert.equal(d('docker://alpine'), {
    transport: 'docker',
    registry: 'docker.io',
    repository: 'library/alpine',
    tag: 'latest',
  });
  assert.equal(d('docker://alpine:3.20'), {
    transport: 'docker',
    registry: 'docker.io',
    repository: 'library/alpine',
    tag: '3.20',
  });
  assert.equal(d('docker://org/app:v1').repository, 'org/app');
  assert.equal(d('docker://index.docker.io/library/alpine').registry, 'docker.io');
  assert.equal(d('docker://127.0.0.1:5000/a/b:t'), {
    transport: 'docker',
    registry: '127.0.0.1:5000',
    repository: 'a/b',
    tag: 't',
  });
  assert.equal(d('docker://localhost/x').registry, 'localhost');
  assert.equal(d('docker://ghcr.io/o/r').registry, 'ghcr.io');
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.equal(d(`docker://quay.io/o/r@${digest}`), {
    transport: 'docker',
    registry: 'quay.io',
    repository: 'o/r',
    digest,
  });
  assert.equal(d(`docker://o/r:t@${digest}`).digest, digest);
  assert.is(formatImageRef(d('docker://alpine')), 'docker://docker.io/library/alpine:latest');
  assert.is(formatImageRef(d(`docker://o/r:t@${digest}`)), `docker://docker.io/o/r:t@${digest}`);
  throws(() => d('docker://'), 'ERR_IMAGE_REF_INVALID');
  throws(() => d('docker://Alpine'), 'ERR_IMAGE_REF_INVALID', 'repository');
  throws(() => d('docker://a/b:-bad'), 'ERR_IMAGE_REF_INVALID', 'tag');
  throws(() => d('docker://a@sha256:abc'), 'ERR_IMAGE_REF_INVALID', 'digest');
  throws(() => d('docker://a/../b'), 'ERR_IMAGE_REF_INVALID');
});

test('archives: oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG]', () => {
  const dir = tempDir();
  const file = path.join(dir, 'img.tar');
  writeFileSync(file, '');
  assert.equal(parseImageRef(`oci-archive:${file}`), { transport: 'oci-archive', path: file });
  assert.equal(parseImageRef(`oci-archive:${file}:v1`), {
    transport: 'oci-archive',
    path: file,
    tag: 'v1',
  });
  assert.equal(parseImageRef(`docker-archive:${file}`), {
    transport: 'docker-archive',
    path: file,
  });
  assert.equal(parseImageRef(`docker-archive:${file}:org/app:v1`), {
    transport: 'docker-archive',
    path: file,
    reference: 'org/app:v1',
  });
  assert.is(formatImageRef(parseImageRef(`oci-archive:${file}:v1`)), `oci-archive:${file}:v1`);
  throws(() => parseImageRef('oci-archive:'), 'ERR_IMAGE_REF_INVALID');
  throws(() => parseImageRef('docker-archive:'), 'ERR_IMAGE_REF_INVALID');
});

test('bare archives are recognised by their content', () => {
  const dir = tempDir();
  const oci = path.join(dir, 'oci.tar');
  writeFileSync(
    oci,
    makeTar([
      { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'index.json', data: '{}' },
    ]),
  );
  const docker = path.join(dir, 'docker.tar');
  writeFileSync(docker, makeTar([{ name: 'manifest.json', data: '[]' }]));
  const other = path.join(dir, 'other.tar');
  writeFileSync(other, makeTar([{ name: 'hello', data: 'x' }]));
  assert.equal(parseImageRef(oci), { transport: 'oci-archive', path: oci });
  assert.equal(parseImageRef(`${oci}:v2`), { transport: 'oci-archive', path: oci, tag: 'v2' });
  assert.equal(parseImageRef(docker), { transport: 'docker-archive', path: docker });
  throws(() => parseImageRef(other), 'ERR_IMAGE_REF_INVALID', 'not an image archive');
});

test('unsupported transports are named', () => {
  const e = throws(
    () => parseImageRef('docker-daemon:alpine:latest'),
    'ERR_IMAGE_TRANSPORT_UNSUPPORTED',
    '"docker-daemon"',
  );
  assert.ok(e.hint);
  throws(() => parseImageRef('containers-storage:x'), 'ERR_IMAGE_TRANSPORT_UNSUPPORTED');
});

test('anything else is invalid, with a hint showing accepted forms', () => {
  const e = throws(() => parseImageRef('alpine:3.20'), 'ERR_IMAGE_REF_INVALID', 'alpine:3.20');
  assert.match(e.hint ?? '', /docker:\/\/alpine:3\.20/);
  assert.match(e.hint ?? '', /oci:DIR\[:TAG\]/);
  throws(() => parseImageRef(''), 'ERR_IMAGE_REF_INVALID');
  throws(() => parseImageRef('oci:'), 'ERR_IMAGE_REF_INVALID');
  throws(() => parseImageRef('oci:/x:'), 'ERR_IMAGE_REF_INVALID', 'empty tag');
  throws(() => parseImageRef('/definitely/not/here'), 'ERR_IMAGE_REF_INVALID');
});

test.run();
