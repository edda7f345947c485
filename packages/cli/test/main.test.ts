import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main, splitEnv, VERSION } from '../src/index.js';

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  return { io: { stdout, stderr, env: {} }, out: () => out, err: () => err };
}

test('--version prints the version and exits 0', async () => {
  const t = io();
  assert.is(await main(['--version'], t.io), 0);
  assert.is(t.out().trim(), VERSION);
});

test('--help lists the commands', async () => {
  const t = io();
  assert.is(await main(['--help'], t.io), 0);
  for (const c of ['run', 'exec', 'shell']) assert.match(t.out(), new RegExp(`berth ${c}`));
});

test('exec --help documents the flags', async () => {
  const t = io();
  assert.is(await main(['exec', '--help'], t.io), 0);
  for (const f of ['--bind', '--fakeroot', '--env', '--cwd', '--runtime'])
    assert.ok(t.out().includes(f), f);
});

test('no command, an unknown command or an unknown flag: 255 with a message', async () => {
  for (const argv of [[], ['frobnicate'], ['exec', '--no-such-flag', 'oci:/x', 'true']]) {
    const t = io();
    assert.is(await main(argv, t.io), 255, argv.join(' '));
    assert.match(t.err(), /^berth: /);
  }
});

test('a bad image reference is a berth error (255) naming it', async () => {
  const t = io();
  assert.is(await main(['exec', 'oci:/nonexistent/layout:tag', 'true'], t.io), 255);
  assert.match(t.err(), /\/nonexistent\/layout/);
});

test('options after the image belong to the container command', async () => {
  // `-c` would be an unknown berth flag: the parse must stop at the image.
  const t = io();
  const code = await main(['exec', 'oci:/nonexistent/layout', 'sh', '-c', 'exit 3'], t.io);
  assert.is(code, 255);
  assert.not.match(t.err(), /Unknown argument/);
});

test('splitEnv: comma-separated pairs, commas inside values kept', () => {
  assert.equal(splitEnv(['A=1,B=2', 'C=x,y']), ['A=1', 'B=2', 'C=x,y']);
});

test.run();
