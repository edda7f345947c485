import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUNDLE,
  checkedValue,
  DELETE_FORCE,
  DETACH_KEYS,
  KILL_FORCE,
  LOG_FORMAT,
  ociValues,
  required,
} from '../src/commands/oci/flags.js';
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

test('oci flags: the command line, else BERTH_, else APPTAINER_, else SINGULARITY_ variables', () => {
  const flags = [BUNDLE, LOG_FORMAT, KILL_FORCE, DELETE_FORCE, DETACH_KEYS];
  const env = {
    SINGULARITY_BUNDLE: '/s',
    APPTAINER_BUNDLE: '/a',
    SINGULARITY_LOG_FORMAT: 'json',
    SINGULARITY_FORCE: 'yes',
    SINGULARITY_DETACH_KEYS: 'ctrl-a', // berth's own flag: only BERTH_DETACH_KEYS counts
  };
  assert.equal(ociValues(flags, {}, env), {
    bundle: '/a',
    'log-format': 'json',
    force: true,
  });
  assert.is(ociValues([BUNDLE], {}, { ...env, BERTH_BUNDLE: '/b' }).bundle, '/b');
  assert.is(ociValues([BUNDLE], { bundle: '/cli' }, { BERTH_BUNDLE: '/b' }).bundle, '/cli');
  assert.is(
    ociValues([DETACH_KEYS], {}, { BERTH_DETACH_KEYS: 'ctrl-a,d' })['detach-keys'],
    'ctrl-a,d',
  );
  // delete's --force is berth's own; kill's reads upstream's FORCE
  assert.is(ociValues([DELETE_FORCE], {}, { SINGULARITY_FORCE: '1' }).force, false);
  assert.throws(
    () => ociValues([KILL_FORCE], {}, { BERTH_FORCE: 'maybe' }),
    (e: Error) => /BERTH_FORCE must be one of/.test(e.message),
  );
});

test('oci flags: a required flag may come from its variable; a refused value names it', () => {
  assert.is(
    required(ociValues([BUNDLE], {}, { SINGULARITY_BUNDLE: '/x' }), BUNDLE, 'oci run'),
    '/x',
  );
  assert.throws(
    () => required(ociValues([BUNDLE], {}, {}), BUNDLE, 'oci run'),
    (e: Error & { hint?: string }) =>
      e.message === 'oci run needs --bundle' && /BERTH_BUNDLE/.test(e.hint ?? ''),
  );
  const check = (v: string | undefined) => {
    if (v !== undefined && v !== 'json') throw new Error(`unknown log format "${v}"`);
    return v ?? 'k8s-file';
  };
  assert.is(checkedValue(LOG_FORMAT, {}, {}, check), 'k8s-file');
  assert.is(checkedValue(LOG_FORMAT, {}, { APPTAINER_LOG_FORMAT: 'json' }, check), 'json');
  assert.throws(
    () => checkedValue(LOG_FORMAT, {}, { APPTAINER_LOG_FORMAT: 'xml' }, check),
    (e: Error) => /^APPTAINER_LOG_FORMAT="xml" is refused: unknown log format/.test(e.message),
  );
  assert.throws(
    () => checkedValue(LOG_FORMAT, { 'log-format': 'xml' }, {}, check),
    (e: Error) => /^unknown log format "xml"$/.test(e.message),
  );
});

test("oci --help names each option's variables; a missing bundle says how to give it", async () => {
  const t = captureIo();
  assert.is(await main(['oci', 'run', '--help'], t.io), 0);
  for (const v of ['BERTH_BUNDLE', 'BERTH_LOG_PATH', 'BERTH_PID_FILE', 'BERTH_DETACH_KEYS'])
    assert.ok(t.out().includes(v), v);
  const u = captureIo();
  assert.is(await main(['oci', 'create', 'c1'], u.io), 255);
  assert.match(u.err(), /^berth: oci create needs --bundle\nhint: .*BERTH_BUNDLE/);
});
