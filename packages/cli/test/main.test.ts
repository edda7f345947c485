import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { actionCommand, launchOptions } from '../src/commands/action.js';
import { fastMain } from '../src/fast-path.js';
import { main, operandsAfterDashDash, VERSION } from '../src/main.js';
import { splitAtImage } from '../src/options/flags.js';
import { splitEnv } from '../src/options/values.js';
import { captureIo } from './helpers.js';

test('--version prints the version and exits 0', async () => {
  const t = captureIo();
  assert.is(await main(['--version'], t.io), 0);
  assert.is(t.out().trim(), VERSION);
});

test('berth version prints the version and exits 0, as --version does', async () => {
  const t = captureIo();
  assert.is(await main(['version'], t.io), 0);
  assert.is(t.out(), `${VERSION}\n`);
});

const COMMANDS = ['run', 'exec', 'shell', 'oci', 'pull', 'cache', 'version', 'completion'];

test('operandsAfterDashDash: -- is dropped before operands, kept for command lines', () => {
  assert.equal(operandsAfterDashDash(['oci', 'start', '--', 'c1']), ['oci', 'start', 'c1']);
  assert.equal(operandsAfterDashDash(['cache', 'clean', '--', 'IMG']), ['cache', 'clean', 'IMG']);
  assert.equal(operandsAfterDashDash(['oci', 'kill', '-s', 'KILL', '--', 'c1']), [
    'oci',
    'kill',
    '-s',
    'KILL',
    'c1',
  ]);
  for (const kept of [
    ['exec', 'IMG', '--', 'ls', '-l'],
    ['run', '-B', '/a', 'IMG', '--', '-x'],
    ['shell', 'IMG', '--', '-i'],
    ['oci', 'exec', 'c1', '--', 'sh', '-c', 'exit 7'],
    ['oci', 'state', 'c1'],
  ])
    assert.equal(operandsAfterDashDash(kept), kept);
  for (const bad of [
    ['oci', 'kill', 'c1', '--', '-9'],
    ['cache', 'clean', '--', '--all'],
    ['pull', '--', '-x'],
  ]) {
    assert.throws(
      () => operandsAfterDashDash(bad),
      (e: Error) => /after "--" is not an operand/.test(e.message),
      bad.join(' '),
    );
  }
});

test('a command whose arguments fail the checks does not run (oci create without an id)', async () => {
  const t = captureIo();
  assert.is(await main(['oci', 'create', '-b', '/nonexistent-bundle-dir'], t.io), 255);
  assert.match(t.err(), /^berth: Missing required argument: id/);
  assert.not.match(t.err(), /nonexistent-bundle-dir/, 'the handler ran');
  const u = captureIo();
  assert.is(await main(['cache', 'clean', '--', 'a', 'b'], u.io), 255);
  assert.not.match(u.out(), /removed/, 'the clean ran');
});

test('--help lists every command', async () => {
  const t = captureIo();
  assert.is(await main(['--help'], t.io), 0);
  for (const c of COMMANDS) assert.match(t.out(), new RegExp(`berth ${c}`));
});

test('pull --help shows each example on its own line, not wrapped into its description', async () => {
  const t = captureIo();
  assert.is(await main(['pull', '--help'], t.io), 0);
  const examples = t.out().split('Examples:\n')[1]?.split('\n\n')[0]?.split('\n') ?? [];
  assert.is(examples.length, 2, examples.join('\n'));
  for (const line of examples) assert.match(line, /^ {2}berth pull \S.* {2,}\S/);
});

test('bare berth names every command', async () => {
  const t = captureIo();
  assert.is(await main([], t.io), 255);
  for (const c of COMMANDS) assert.ok(t.err().includes(c), c);
});

test('exec --help documents the flags', async () => {
  const t = captureIo();
  assert.is(await main(['exec', '--help'], t.io), 0);
  for (const f of ['--bind', '--fakeroot', '--env', '--cwd', '--runtime'])
    assert.ok(t.out().includes(f), f);
});

test('no command, an unknown command or an unknown flag: 255 with a message', async () => {
  for (const argv of [[], ['frobnicate'], ['exec', '--no-such-flag', 'oci:/x', 'true']]) {
    const t = captureIo();
    assert.is(await main(argv, t.io), 255, argv.join(' '));
    assert.match(t.err(), /^berth: /);
  }
});

test('a bad image reference is a berth error (255) naming it', async () => {
  const t = captureIo();
  assert.is(await main(['exec', 'oci:/nonexistent/layout:tag', 'true'], t.io), 255);
  assert.match(t.err(), /\/nonexistent\/layout/);
});

test('options after the image belong to the container command', async () => {
  // `-c` would be an unknown berth flag: the parse must stop at the image.
  const t = captureIo();
  const code = await main(['exec', 'oci:/nonexistent/layout', 'sh', '-c', 'exit 3'], t.io);
  assert.is(code, 255);
  assert.not.match(t.err(), /Unknown argument/);
});

test('splitEnv: comma-separated pairs, commas inside values kept', () => {
  assert.equal(splitEnv(['A=1,B=2', 'C=x,y']), ['A=1', 'B=2', 'C=x,y']);
});

test('exec --help documents the option groups; refused options stay hidden but named', async () => {
  const t = captureIo();
  assert.is(await main(['exec', '--help'], t.io), 0);
  for (const f of [
    '--home',
    '--no-home',
    '--workdir',
    '--scratch',
    '--no-mount',
    '--mount',
    '--env-file',
    '--cleanenv',
    '--no-compat',
    '--no-umask',
    '--writable-tmpfs',
    '--overlay',
    '--no-setgroups',
    '--net',
    '--network',
    '--hostname',
    '--uts',
    '--dns',
    '--no-pid',
    '--userns',
    '--add-caps',
    '--drop-caps',
    '--keep-privs',
    '--no-privs',
    '--allow-setuid',
    '--device',
    '--cdi-dirs',
    '--cpus',
    '--cpu-shares',
    '--cpuset-cpus',
    '--memory',
    '--memory-swap',
    '--pids-limit',
    '--apply-cgroups',
    '--dry-run',
  ])
    assert.ok(t.out().includes(f), f);
  assert.match(t.out(), /Mounts and directories:/);
  assert.match(t.out(), /Refused as SingularityCE refuses them in OCI mode: --contain/);
});

const parse = async (argv: string[]) => {
  // parse as main would, but capture the launcher options instead of launching
  const yargs = (await import('yargs')).default;
  let captured: ReturnType<typeof launchOptions> | undefined;
  const io = { stdout: process.stdout, stderr: process.stderr, env: {} };
  await yargs()
    .command({
      ...actionCommand('exec', io, () => {}),
      handler: (a) => {
        captured = launchOptions('exec', a, io);
      },
    })
    .strict()
    .parseAsync(splitAtImage(argv));
  return captured as ReturnType<typeof launchOptions>;
};

test('launchOptions: flags map onto the launcher options; --no-X flags are not negations', async () => {
  const o = await parse([
    'exec',
    '--no-compat',
    '--no-home',
    '--no-mount',
    'tmp,proc',
    '--no-mount',
    'home',
    '-H',
    '/h',
    '-W',
    '/w',
    '-S',
    '/a,/b',
    '-o',
    '/ov:ro',
    '-e',
    '-u',
    '-n',
    '--network',
    'none',
    '--hostname',
    'x',
    '--dns',
    '1.1.1.1',
    '--add-caps',
    'net_admin',
    '--device',
    'a.com/b=c,a.com/b=d',
    '--memory-swap',
    '-1',
    '--pids-limit',
    '-1',
    '--cpus',
    '0.5',
    '--env-file',
    'f',
    'oci:/img',
    'sh',
    '-c',
    'exit 3',
  ]);
  assert.is(o.noCompat, true);
  assert.is(o.compat, false);
  assert.is(o.noHome, true);
  assert.is(o.home, '/h');
  assert.equal(o.noMount, ['tmp', 'proc', 'home']);
  assert.is(o.workdir, '/w');
  assert.equal(o.scratch, ['/a', '/b']);
  assert.equal(o.overlays, ['/ov:ro']);
  assert.is(o.cleanEnv, true);
  assert.is(o.userns, true);
  assert.is(o.net, true);
  assert.is(o.network, 'none');
  assert.is(o.hostname, 'x');
  assert.equal(o.devices, ['a.com/b=c', 'a.com/b=d']);
  assert.equal(o.limits, { cpus: '0.5', memorySwap: '-1', pidsLimit: -1 });
  assert.equal(o.envFiles, ['f']);
  assert.equal(o.args, ['sh', '-c', 'exit 3']);
});

test('refused flags reach the launcher, which refuses them (255)', async () => {
  for (const argv of [
    ['exec', '--contain', 'oci:/nonexistent', 'true'],
    ['exec', '-C', 'oci:/nonexistent', 'true'],
    ['exec', '--net', 'oci:/nonexistent', 'true'],
  ]) {
    const t = captureIo();
    assert.is(await main(argv, t.io), 255, argv.join(' '));
    assert.match(t.err(), /^berth: not supported by OCI launcher: /);
  }
});

test('a non-numeric --pids-limit is a usage error', async () => {
  const t = captureIo();
  assert.is(await main(['exec', '--pids-limit', 'lots', 'oci:/x', 'true'], t.io), 255);
  assert.match(t.err(), /--pids-limit needs a number/);
});

test('a bad value is reported by its flag, on both paths', async () => {
  const cases: [string[], string][] = [
    [['exec', '--cwd', 'rel', 'oci:/x', 'true'], '--cwd must be an absolute path'],
    [['run', '--pwd=rel', 'oci:/x'], '--cwd must be an absolute path'],
    [['exec', '--env', 'oops', 'oci:/x', 'true'], '--env entries must look like NAME=value'],
    [['exec', '--pids-limit', '1.5', 'oci:/x', 'true'], '--pids-limit needs a whole number'],
    [['exec', '--memory', '', 'oci:/x', 'true'], '--memory must not be empty'],
    [['exec', '--hostname=', 'oci:/x', 'true'], '--hostname must not be empty'],
  ];
  for (const [argv, message] of cases) {
    const action = argv[0];
    for (const run of [main, fastMain]) {
      const t = captureIo();
      assert.is(await run(argv, t.io), 255, argv.join(' '));
      assert.is(t.err(), `berth: ${message}\nhint: see berth ${action} --help\n`, argv.join(' '));
    }
  }
  const t = captureIo();
  assert.is(await main(['pull', '--platform', '', 'oci:/x'], t.io), 255);
  assert.is(t.err(), 'berth: --platform must not be empty\nhint: see berth pull --help\n');
});

test.run();
