import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildEnv, CONTAINER_LIBS_DIR, DEFAULT_PATH } from '../src/env.js';

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
  assert.equal(env, [
    'A=image',
    'B=sing',
    'PATH=/img/bin',
    'C=flag',
    'D=flag',
    'HOME=/home/u',
    'LD_LIBRARY_PATH=/.singularity.d/libs',
  ]);
});

test('APPTAINERENV_ wins over SINGULARITYENV_, BERTHENV_ over both; none is passed through', () => {
  const hostEnv = { SINGULARITYENV_X: 's', APPTAINERENV_X: 'a', APPTAINERENV_Y: 'y' };
  const env = buildEnv({ ...base, hostEnv, hostPassthrough: 'all' });
  assert.ok(env.includes('X=a') && env.includes('Y=y'), env.join(' '));
  assert.not.ok(env.some((e) => e.startsWith('APPTAINERENV_')));
  const berth = buildEnv({ ...base, hostEnv: { ...hostEnv, BERTHENV_X: 'b' } });
  assert.ok(berth.includes('X=b'));
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

test('env files sit between the prefixed host variables and --env, in order', () => {
  const env = buildEnv({
    ...base,
    imageEnv: ['I=image'],
    hostEnv: { BERTHENV_A: 'host', BERTHENV_B: 'host', BERTHENV_I: 'host' },
    envFiles: [
      new Map([
        ['A', 'file1'],
        ['B', 'file1'],
      ]),
      new Map([['B', 'file2']]),
    ],
    userEnv: ['C=flag'],
  });
  for (const e of ['I=host', 'A=file1', 'B=file2', 'C=flag']) assert.ok(env.includes(e), e);
});

test('--no-compat passes the host environment but HOME, PATH, LD_LIBRARY_PATH and prefixed ones', () => {
  const hostEnv = {
    SECRET: 's',
    HOME: '/host',
    PATH: '/host/bin',
    LD_LIBRARY_PATH: '/host/lib',
    SINGULARITY_SHELL: '/bin/zsh',
    BERTHENV_X: 'x',
    SINGULARITYENV_Y: 'y',
    TERM: 't',
  };
  const all = buildEnv({ ...base, hostEnv, hostPassthrough: 'all' });
  assert.ok(all.includes('SECRET=s'));
  assert.ok(all.includes('TERM=t'));
  assert.ok(all.includes('X=x') && all.includes('Y=y'));
  for (const k of ['BERTHENV_X', 'SINGULARITYENV_Y', 'SINGULARITY_SHELL'])
    assert.not.ok(
      all.some((e) => e.startsWith(`${k}=`)),
      k,
    );
  assert.ok(all.includes('HOME=/home/u'));
  assert.ok(all.includes(`PATH=${DEFAULT_PATH}`));
  assert.ok(all.includes(`LD_LIBRARY_PATH=${CONTAINER_LIBS_DIR}`));
  // --cleanenv (the default): TERM and proxies only
  const clean = buildEnv({ ...base, hostEnv, hostPassthrough: 'clean' });
  assert.not.ok(clean.some((e) => e.startsWith('SECRET=')));
});

test('LD_LIBRARY_PATH: user, else image, always with the libs directory, kept in place', () => {
  assert.equal(buildEnv({ ...base, imageEnv: ['LD_LIBRARY_PATH=/img', 'Z=1'] }).slice(0, 2), [
    'LD_LIBRARY_PATH=/img:/.singularity.d/libs',
    'Z=1',
  ]);
  assert.ok(
    buildEnv({
      ...base,
      imageEnv: ['LD_LIBRARY_PATH=/img'],
      userEnv: ['LD_LIBRARY_PATH=/foo,'],
    }).includes('LD_LIBRARY_PATH=/foo,:/.singularity.d/libs'),
  );
  assert.ok(
    buildEnv({ ...base, userEnv: ['LD_LIBRARY_PATH=/a:/.singularity.d/libs:/b'] }).includes(
      'LD_LIBRARY_PATH=/a:/.singularity.d/libs:/b',
    ),
  );
});

test('an empty user PATH falls back to the image PATH, then the default', () => {
  assert.ok(buildEnv({ ...base, userEnv: ['PATH='] }).includes(`PATH=${DEFAULT_PATH}`));
});

test.run();
