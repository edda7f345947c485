import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { imageDefaults } from '../src/core/image-defaults.js';
import type { ImageConfig } from '../src/core/schemas.js';
import { throws } from './helpers/expect.js';

const base = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers' as const, diff_ids: [] },
};

test('defaults from a full config', () => {
  const d = imageDefaults({
    ...base,
    config: {
      Entrypoint: ['/entry', '--flag'],
      Cmd: ['run', '$HOME; rm -rf /'],
      Env: ['PATH=/usr/bin', 'EMPTY=', 'EQ=a=b'],
      WorkingDir: '/work',
      User: '1000:1000',
      Labels: { 'org.opencontainers.image.title': 't' },
    },
  });
  assert.equal(d, {
    entrypoint: ['/entry', '--flag'],
    cmd: ['run', '$HOME; rm -rf /'],
    env: ['PATH=/usr/bin', 'EMPTY=', 'EQ=a=b'],
    workingDir: '/work',
    user: '1000:1000',
    labels: { 'org.opencontainers.image.title': 't' },
  });
});

test('empty and null values (Docker style) normalise to empty', () => {
  const d = imageDefaults({
    ...base,
    config: { Entrypoint: null, Cmd: null, Env: null, Labels: null, WorkingDir: '', User: '' },
  });
  assert.equal(d, { entrypoint: [], cmd: [], env: [], labels: {} });
  assert.equal(imageDefaults({ ...base } as ImageConfig), {
    entrypoint: [],
    cmd: [],
    env: [],
    labels: {},
  });
});

test('Env entries without = are refused', () => {
  const e = throws(
    () => imageDefaults({ ...base, config: { Env: ['OK=1', 'BROKEN'] } }),
    'ERR_IMAGE_CONFIG_ENV',
    '"BROKEN"',
  );
  assert.ok(e.hint);
  throws(() => imageDefaults({ ...base, config: { Env: ['=value'] } }), 'ERR_IMAGE_CONFIG_ENV');
});

test('a non-config is refused', () => {
  throws(() => imageDefaults({ config: {} } as unknown as ImageConfig), 'ERR_IMAGE_CONFIG_INVALID');
});

test.run();
