import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTable, splitOciArgs } from '../src/commands/oci/index.js';
import { main } from '../src/index.js';
import { captureIo } from './helpers.js';

test('splitOciArgs: everything after the id of oci exec belongs to the command', () => {
  assert.equal(splitOciArgs(['oci', 'exec', 'c1', 'sh', '-c', 'exit 7']), [
    'oci',
    'exec',
    'c1',
    '--',
    'sh',
    '-c',
    'exit 7',
  ]);
  assert.equal(splitOciArgs(['--debug', 'oci', 'exec', '-t', 'c1', 'ls', '-l']), [
    '--debug',
    'oci',
    'exec',
    '-t',
    'c1',
    '--',
    'ls',
    '-l',
  ]);
  assert.equal(splitOciArgs(['oci', 'exec', 'c1', '--', 'x']), ['oci', 'exec', 'c1', '--', 'x']);
  assert.equal(splitOciArgs(['oci', 'kill', 'c1', '-s', 'KILL']), [
    'oci',
    'kill',
    'c1',
    '-s',
    'KILL',
  ]);
  assert.equal(splitOciArgs(['exec', 'img', 'oci', 'exec']), ['exec', 'img', 'oci', 'exec']);
});

test('oci --help lists every subcommand', async () => {
  const t = captureIo();
  assert.is(await main(['oci', '--help'], t.io), 0);
  for (const c of [
    'create',
    'start',
    'state',
    'kill',
    'delete',
    'attach',
    'exec',
    'run',
    'update',
    'pause',
    'resume',
    'list',
    'mount',
    'umount',
  ])
    assert.match(t.out(), new RegExp(`berth oci ${c}`), c);
});

test('oci create --help documents its flags', async () => {
  const t = captureIo();
  assert.is(await main(['oci', 'create', '--help'], t.io), 0);
  for (const f of ['--bundle', '--log-path', '--log-format', '--pid-file', '--runtime'])
    assert.ok(t.out().includes(f), f);
});

test('oci usage errors exit 255', async () => {
  for (const argv of [['oci'], ['oci', 'create', 'c1'], ['oci', 'frob']]) {
    const t = captureIo();
    assert.is(await main(argv, t.io), 255, argv.join(' '));
    assert.match(t.err(), /^berth: /);
  }
});

test('formatTable: aligned columns, paused shown as paused', () => {
  const table = formatTable([
    {
      ociVersion: '1',
      id: 'a',
      status: 'paused',
      pid: 12,
      bundle: '/b',
      runtime: 'crun',
    },
    { ociVersion: '1', id: 'long-id', status: 'stopped', pid: 0, bundle: '/bb', runtime: 'runc' },
  ]);
  assert.is(
    table,
    'ID       PID  STATUS   BUNDLE  CREATED  RUNTIME\n' +
      'a        12   paused   /b               crun\n' +
      'long-id  0    stopped  /bb              runc\n',
  );
});

test.run();
