import { isBerthError } from '@berth-oci/errors';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { processArgs, SHELL_ARGS } from '../src/spec-process.js';

const d = { entrypoint: ['/entry'], cmd: ['default', 'cmd'] };

test('run: Entrypoint + Cmd, args replacing Cmd', () => {
  assert.equal(processArgs('run', [], d, 'img'), ['/entry', 'default', 'cmd']);
  assert.equal(processArgs('run', ['a', 'b'], d, 'img'), ['/entry', 'a', 'b']);
  assert.equal(processArgs('run', [], { entrypoint: [], cmd: ['c'] }, 'img'), ['c']);
});

test('exec: the command as given, Entrypoint ignored', () => {
  assert.equal(processArgs('exec', ['id', '-u'], d, 'img'), ['id', '-u']);
});

test('shell: the shell script', () => {
  assert.equal(processArgs('shell', [], d, 'img'), SHELL_ARGS);
});

test('exec without a command, or an image with nothing to run: ERR_LAUNCH_ARGS', () => {
  for (const [action, defaults] of [
    ['exec', d],
    ['run', { entrypoint: [], cmd: [] }],
  ] as const) {
    try {
      processArgs(action, [], defaults, 'oci:x');
      assert.unreachable();
    } catch (e) {
      assert.ok(isBerthError(e));
      assert.is((e as { code: string }).code, 'ERR_LAUNCH_ARGS');
    }
  }
});

test.run();
