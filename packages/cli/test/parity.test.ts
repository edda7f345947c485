import type { FlagSpec } from '@berth-oci/launcher';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import yargs from 'yargs';
import { type ActionArgs, actionCommand, launchOptions } from '../src/commands/action.js';
import { parseActionArgv } from '../src/fast-path.js';
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
function comparable(args: ActionArgs): Record<string, unknown> {
  const { hostEnv, onWarning, onInfo, ...rest } = launchOptions('exec', args, io);
  return {
    ...rest,
    warnings: typeof onWarning === 'function',
    info: typeof onInfo === 'function',
    dryRun: args['dry-run'] === true,
    debug: args.debug === true,
  };
}

async function both(flags: string[]) {
  const argv = ['exec', ...flags, IMAGE, ...COMMAND];
  const fast = parseActionArgv(argv);
  assert.ok(fast, `the fast path deferred ${argv.join(' ')}`);
  const full = await viaYargs(argv);
  const a = comparable(fast.args);
  const b = comparable(full);
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

test.run();
