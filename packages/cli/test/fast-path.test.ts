import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseActionArgv } from '../src/fast-path.js';

test('options before the image, the rest for the container', () => {
  const r = parseActionArgv([
    'exec',
    '-B',
    '/a',
    '--bind=/b:/c',
    '--fakeroot',
    'oci:/x',
    'sh',
    '-c',
    'exit 3',
    '--bind',
    'y',
  ]);
  assert.ok(r);
  assert.is(r.action, 'exec');
  assert.is(r.args.image, 'oci:/x');
  assert.equal(r.args.bind, ['/a', '/b:/c']);
  assert.is(r.args.fakeroot, true);
  assert.equal(r.args['--'], ['sh', '-c', 'exit 3', '--bind', 'y']);
});

test('aliases map to the option name; numbers are numbers', () => {
  const r = parseActionArgv(['run', '--pwd', '/tmp', '--cpu-shares', '512', 'img']);
  assert.ok(r);
  assert.is(r.args.cwd, '/tmp');
  assert.is(r.args['cpu-shares'], 512);
});

test('anything doubtful goes to the full parser', () => {
  for (const argv of [
    ['exec', '--help', 'img'],
    ['exec', '--no-such-option', 'img', 'true'],
    ['exec', '--bind'],
    ['exec', '--cpu-shares', 'many', 'img'],
    ['exec', '--fakeroot=true', 'img'],
    ['exec', '--', 'img'],
    ['exec'],
    ['shell', 'img', 'extra'],
    ['pull', 'img'],
    ['--version'],
  ]) {
    assert.is(parseActionArgv(argv), undefined, argv.join(' '));
  }
});

test.run();
