import { type FlagSpec, LAUNCH_OPTION_TABLE, optionEnvKeys } from '@berth-oci/launcher';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import yargs from 'yargs';
import { type ActionArgs, actionCommand, launchOptions } from '../src/commands/action.js';
import { parseActionArgv } from '../src/fast-path.js';
import { main } from '../src/main.js';
import { ACTION_FLAGS, splitAtImage } from '../src/options/flags.js';
import { captureIo } from './helpers.js';

// Every flag of the option table, in each of its spellings and value forms, through the fast
// path and through yargs (with the real run/exec/shell builder): the launch options must be
// the same, and the flag must have set something.

const io = captureIo().io;
const IMAGE = 'oci:/img';
const COMMAND = ['sh', '-c', 'exit 3', '--bind', 'x'];

/** The arguments yargs gives the handler (copied there: yargs reworks them afterwards). */
async function viaYargs(argv: string[]): Promise<ActionArgs> {
  let captured: ActionArgs | undefined;
  let failure: unknown;
  const command = actionCommand('exec', io, () => {});
  await yargs()
    .command({
      ...command,
      handler: (a) => {
        captured = structuredClone({ ...a });
      },
    })
    .option('debug', { type: 'boolean' })
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      failure = err ?? new Error(msg);
    })
    .parseAsync(splitAtImage(argv));
  if (failure) throw failure;
  assert.ok(captured, `yargs ran no command for ${argv.join(' ')}`);
  return captured;
}

/** The launch options and berth's own flags of parsed arguments, comparable with `equal`. */
function comparable(args: ActionArgs, env: Record<string, string> = {}): Record<string, unknown> {
  const { hostEnv, onWarning, onInfo, ...rest } = launchOptions('exec', args, { ...io, env });
  return {
    ...rest,
    warnings: typeof onWarning === 'function',
    info: typeof onInfo === 'function',
    dryRun: args['dry-run'] === true,
    debug: args.debug === true,
  };
}

async function both(flags: string[], env: Record<string, string> = {}) {
  const argv = ['exec', ...flags, IMAGE, ...COMMAND];
  const fast = parseActionArgv(argv);
  assert.ok(fast, `the fast path deferred ${argv.join(' ')}`);
  const full = await viaYargs(argv);
  const a = comparable(fast.args, env);
  const b = comparable(full, env);
  assert.equal(a, b, argv.join(' '));
  return a;
}

const spellings = (f: FlagSpec) => [
  `--${f.flag}`,
  ...(f.aliases ?? []).map((a) => `--${a}`),
  ...(f.short ?? []).map((s) => `-${s}`),
];

const SAMPLE: Record<FlagSpec['kind'], [string, string]> = {
  boolean: ['', ''],
  present: ['/key.pem', '/other.pem'],
  string: ['one', 'two'],
  number: ['7', '-1'],
  list: ['a:b', 'c,d'],
  csv: ['/a, /b', '/c'],
  env: ['A=1,B=2', 'C=x,y'],
};

const baseline = comparable(parseActionArgv(['exec', IMAGE, ...COMMAND])?.args as ActionArgs);

test('the command runs, with nothing set, the same way on both paths', async () => {
  assert.equal(await both([]), baseline);
  assert.equal(baseline.args, COMMAND);
});

for (const f of ACTION_FLAGS) {
  test(`--${f.flag} (${f.kind}): every spelling and value form, both paths agree`, async () => {
    const [one, two] = SAMPLE[f.kind];
    const results: unknown[] = [];
    for (const s of spellings(f)) {
      if (f.kind === 'boolean') {
        results.push(await both([s]));
        results.push(await both([s, s]));
        continue;
      }
      results.push(await both([s, one]));
      if (s.startsWith('--')) results.push(await both([`${s}=${one}`]));
      const repeated = await both([s, one, s, two]);
      assert.not.equal(repeated, baseline, `${s} set nothing`);
    }
    // every spelling and form of a single value gives the same options, and not the defaults
    for (const r of results) assert.equal(r, results[0], f.flag);
    assert.not.equal(results[0], baseline, `--${f.flag} set nothing`);
  });
}

test('each value kind maps as documented', async () => {
  const o = (await both([
    '-B',
    'a:b',
    '--bind=c,d',
    '--scratch',
    '/a, /b',
    '-S',
    '/c',
    '--env',
    'A=1,B=2',
    '--env=C=x,y',
    '--cwd',
    '/one',
    '--pwd=/two',
    '--pids-limit',
    '-1',
    '--cpu-shares=7',
    '--pem-path',
    '/k',
    '--oom-kill-disable',
    '-q',
    '--dry-run',
    '--debug',
  ])) as Record<string, unknown>;
  assert.equal(o.binds, ['a:b', 'c,d']);
  assert.equal(o.scratch, ['/a', '/b', '/c']);
  assert.equal(o.env, ['A=1', 'B=2', 'C=x,y']);
  assert.is(o.cwd, '/two');
  assert.equal(o.limits, { pidsLimit: -1, cpuShares: 7, oomKillDisable: true });
  assert.is(o.keyInfo, true);
  assert.is(o.warnings, false);
  assert.is(o.dryRun, true);
  assert.is(o.debug, true);
});

test('the comparison tells flags apart (a test that can fail)', async () => {
  assert.not.equal(await both(['--bind', 'a']), await both(['--mount', 'a']));
  assert.not.equal(await both(['--cpu-shares', '7']), await both(['--blkio-weight', '7']));
  assert.not.equal(await both(['--pid']), await both(['--ipc']));
});

// Flags from the environment: each option's variables, through both paths.

const ENV_SAMPLE: Record<FlagSpec['kind'], string> = {
  boolean: 'true',
  present: '/key.pem',
  string: 'one',
  number: '7',
  list: 'a:b',
  csv: '/a',
  env: 'A=1',
};

for (const f of LAUNCH_OPTION_TABLE) {
  test(`--${f.flag}: each of its variables sets what the flag sets, on both paths`, async () => {
    const value = ENV_SAMPLE[f.kind];
    const flagged = await both(f.kind === 'boolean' ? [`--${f.flag}`] : [`--${f.flag}`, value]);
    const keys = optionEnvKeys(f);
    // BERTH_, the first APPTAINER_ and the last SINGULARITY_ name (all, when there are few)
    const names = keys.length <= 3 ? keys : [keys[0], keys[1], keys.at(-1)];
    for (const name of names as string[]) {
      const fromEnv = await both([], { [name]: value });
      assert.equal(fromEnv, flagged, name);
    }
  });
}

test('env: BERTH_ wins over APPTAINER_, which wins over SINGULARITY_; blank values are unset', async () => {
  const host = async (env: Record<string, string>) => (await both([], env)).hostname;
  const all = { BERTH_HOSTNAME: 'b', APPTAINER_HOSTNAME: 'a', SINGULARITY_HOSTNAME: 's' };
  assert.is(await host(all), 'b');
  assert.is(await host({ ...all, BERTH_HOSTNAME: ' ' }), 'a');
  assert.is(await host({ SINGULARITY_HOSTNAME: 's', APPTAINER_HOSTNAME: '' }), 's');
  assert.is(await host({}), undefined);
  const binds = async (env: Record<string, string>) => (await both([], env)).binds;
  // upstream reads each of a flag's names: BIND and BINDPATH both add (in that order) ...
  assert.equal(await binds({ SINGULARITY_BINDPATH: '/p', SINGULARITY_BIND: '/b' }), ['/b', '/p']);
  assert.equal(await binds({ APPTAINER_BIND: '/b', APPTAINER_BINDPATH: '/p,/q' }), [
    '/b',
    '/p',
    '/q',
  ]);
  // ... but a prefix that is set hides the weaker ones
  assert.equal(await binds({ SINGULARITY_BINDPATH: '/p', APPTAINER_BINDPATH: '/a' }), ['/a']);
  assert.equal(await binds({ BERTH_BIND: '/x', SINGULARITY_BIND: '/s' }), ['/x']);
});

test('env: the command line wins; --bind and --mount variables add to it', async () => {
  const o = await both(['--hostname', 'cli', '--bind', '/c', '--mount', 'src=/m,dst=/m'], {
    BERTH_HOSTNAME: 'env',
    SINGULARITY_BIND: '/e1, /e2:/x',
    BERTH_MOUNT: 'type=bind,src=/n,dst=/n',
    BERTH_FAKEROOT: 'no',
  });
  assert.is(o.hostname, 'cli');
  assert.equal(o.binds, ['/c', '/e1', '/e2:/x']);
  assert.equal(o.mounts, ['src=/m,dst=/m', 'type=bind,src=/n,dst=/n']);
  assert.is(o.fakeroot, false);
});

test('env: switches take 1/0, true/false, yes/no in any case; lists are comma-separated', async () => {
  for (const [value, expected] of [
    ['1', true],
    ['TRUE', true],
    ['Yes', true],
    ['0', false],
    ['false', false],
    ['no', false],
  ] as const)
    assert.is((await both([], { BERTH_NO_HOME: value })).noHome, expected, value);
  const o = await both([], {
    BERTH_SCRATCH: '/a, /b,,',
    BERTH_ENV: 'A=1,B=x,y',
    BERTH_ADD_CAPS: 'net_admin, sys_ptrace',
    SINGULARITY_NOHTTPS: '1',
    BERTH_PIDS_LIMIT: '-1',
  });
  assert.equal(o.scratch, ['/a', '/b']);
  assert.equal(o.env, ['A=1', 'B=x,y']);
  assert.equal(o.addCaps, ['net_admin', 'sys_ptrace']);
  assert.is(o.noHttps, true);
  assert.equal(o.limits, { pidsLimit: -1 });
});

test('env: a malformed value exits 255 naming the variable, on both paths', async () => {
  for (const argv of [
    ['exec', 'oci:/nonexistent', 'true'],
    ['exec', '--debug=false', 'oci:/nonexistent', 'true'], // deferred to yargs
  ]) {
    for (const [name, value, message] of [
      ['BERTH_FAKEROOT', 'maybe', 'BERTH_FAKEROOT must be one of 1, 0, true, false, yes, no'],
      ['SINGULARITY_PIDS_LIMIT', 'lots', 'SINGULARITY_PIDS_LIMIT needs a number'],
    ] as const) {
      const t = captureIo({ [name]: value });
      assert.is(await main(argv, t.io), 255, `${name} ${argv.join(' ')}`);
      assert.ok(t.err().startsWith(`berth: ${message}, got "${value}"\n`), t.err());
      assert.match(t.err(), new RegExp(`hint: .*unset ${name}`));
    }
  }
});

test('env: a value the schema refuses is reported by its variable', async () => {
  const t = captureIo({ APPTAINER_CWD: 'relative' });
  assert.is(await main(['exec', 'oci:/nonexistent', 'true'], t.io), 255);
  assert.match(t.err(), /^berth: APPTAINER_CWD \(--cwd\) must be an absolute path\n/);
});

test("--help names each option's variable, and the precedence", async () => {
  const t = captureIo();
  assert.is(await main(['exec', '--help'], t.io), 0);
  const out = t.out().replace(/\s+/g, ' ');
  for (const s of [
    '[env: BERTH_BIND, SINGULARITY_BINDPATH]',
    '[env: BERTH_FAKEROOT]',
    '[env: BERTH_NO_HTTPS, SINGULARITY_NOHTTPS]',
    'BERTH_ wins over APPTAINER_',
  ])
    assert.ok(out.includes(s), s);
  const p = captureIo();
  assert.is(await main(['pull', '--help'], p.io), 0);
  assert.ok(p.out().replace(/\s+/g, ' ').includes('[env: BERTH_PLATFORM]'));
});

test.run();
