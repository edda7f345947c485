import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildEnv, DEFAULT_PATH } from '../src/index.js';

const base = {
  imageEnv: [] as string[],
  hostEnv: {},
  userEnv: [] as string[],
  home: '/home/u',
  imageHasUser: false,
};

test('image Env first, then BERTHENV_/SINGULARITYENV_, then --env', () => {
  const env = buildEnv({
    ...base,
    imageEnv: ['A=image', 'B=image', 'PATH=/img/bin'],
    hostEnv: { SINGULARITYENV_B: 'sing', BERTHENV_C: 'berth', UNRELATED: 'x' },
    userEnv: ['C=flag', 'D=flag'],
  });
  assert.equal(env, ['A=image', 'B=sing', 'PATH=/img/bin', 'C=flag', 'D=flag', 'HOME=/home/u']);
});

test('BERTHENV_ wins over SINGULARITYENV_ for the same name', () => {
  const env = buildEnv({ ...base, hostEnv: { SINGULARITYENV_X: '1', BERTHENV_X: '2' } });
  assert.ok(env.includes('X=2'));
});

test('only TERM and proxy variables come from the host, and never over the image', () => {
  const env = buildEnv({
    ...base,
    imageEnv: ['http_proxy=image'],
    hostEnv: { TERM: 'xterm', http_proxy: 'host', HTTPS_PROXY: 'p', SECRET: 's', HOME: '/root' },
  });
  assert.ok(env.includes('TERM=xterm'));
  assert.ok(env.includes('http_proxy=image'));
  assert.ok(env.includes('HTTPS_PROXY=p'));
  assert.not.ok(env.some((e) => e.startsWith('SECRET=')));
  assert.ok(env.includes('HOME=/home/u'));
});

test('PATH: default when the image has none; user PATH wins; APPEND_PATH and PREPEND_PATH', () => {
  assert.ok(buildEnv(base).includes(`PATH=${DEFAULT_PATH}`));
  assert.ok(buildEnv({ ...base, imageEnv: ['PATH=/a'], userEnv: ['PATH=/u'] }).includes('PATH=/u'));
  const env = buildEnv({
    ...base,
    imageEnv: ['PATH=/a:'],
    userEnv: ['APPEND_PATH=/z', 'PREPEND_PATH=/p'],
  });
  assert.ok(env.includes('PATH=/p:/a:/z'), env.join(' '));
  assert.not.ok(env.some((e) => e.startsWith('APPEND_PATH=') || e.startsWith('PREPEND_PATH=')));
});

test('HOME is not forced when the image declares USER', () => {
  const env = buildEnv({ ...base, imageHasUser: true });
  assert.not.ok(env.some((e) => e.startsWith('HOME=')));
});

test('values may contain =', () => {
  assert.ok(buildEnv({ ...base, userEnv: ['X=a=b'] }).includes('X=a=b'));
});

test.run();
