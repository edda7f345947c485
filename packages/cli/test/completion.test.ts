import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { completionScript, entries, shortDescription } from '../src/commands/completion.js';
import { berthTree, main, VERSION } from '../src/main.js';
import { captureIo } from './helpers.js';

const tree = berthTree();
const tmp = mkdtempSync(path.join(tmpdir(), 'berth-completion-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const bash = completionScript('bash', tree, VERSION);

/** What the bash script completes for the words (the last one is being typed). */
function complete(...words: string[]): string[] {
  const script = `${bash}
COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_berth
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync('bash', ['-c', script, 'bash', ...words], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

test('bash: commands, subcommands and their aliases', () => {
  assert.equal(complete('berth', ''), [
    'run',
    'exec',
    'shell',
    'oci',
    'pull',
    'cache',
    'version',
    'completion',
  ]);
  assert.equal(complete('berth', 'oci', 'cr'), ['create']);
  assert.equal(complete('berth', 'cache', 'ls', '--j'), ['--json']);
});

test("bash: a command's flags come from the option table, hidden (refused) ones left out", () => {
  assert.equal(complete('berth', 'exec', '--bi'), ['--bind']);
  assert.ok(complete('berth', 'run', '-').includes('-B'));
  assert.ok(complete('berth', 'exec', '--').includes('--fakeroot'));
  assert.not.ok(complete('berth', 'exec', '--').includes('--boot'));
  // flag values are skipped: -B takes one, so the image comes after it
  assert.equal(complete('berth', 'shell', '-B', '/data', '--net'), ['--net', '--network']);
  // global flags everywhere, before the command too
  assert.ok(complete('berth', 'oci', 'kill', '--').includes('--verbose'));
  assert.equal(complete('berth', '-v', 'exec', '--fakero'), ['--fakeroot']);
});

test('bash: values of flags and positionals that are a fixed set', () => {
  assert.equal(complete('berth', 'exec', '--runtime', ''), ['crun', 'runc']);
  assert.equal(complete('berth', 'oci', 'create', '--log-format', 'j'), ['json']);
  assert.equal(complete('berth', 'completion', ''), ['bash', 'zsh', 'fish']);
  // a value that is not a fixed set: the shell's file completion (nothing from berth)
  assert.equal(complete('berth', 'exec', '--bind', ''), []);
});

test("bash: after the image, the words are the container command's", () => {
  assert.equal(complete('berth', 'exec', 'oci:./layout', '--bi'), []);
  assert.equal(complete('berth', 'oci', 'exec', 'c1', '--tt'), []);
  assert.equal(complete('berth', 'oci', 'exec', '--tt'), ['--tty']);
});

test('zsh and fish scripts parse, and describe the same commands and flags', () => {
  const zsh = completionScript('zsh', tree, VERSION);
  const fish = completionScript('fish', tree, VERSION);
  assert.match(zsh, /^#compdef berth\n/);
  assert.match(zsh, /'--bind:bind a host path/);
  assert.match(fish, /complete -c berth -n '__berth_at \\'berth exec\\'' -l bind -s B -r -d /);
  assert.match(fish, /-l runtime -x -a 'crun runc'/);
  for (const [shell, text] of [
    ['zsh', zsh],
    ['fish', fish],
  ] as const) {
    const file = path.join(tmp, `berth.${shell}`);
    writeFileSync(file, text);
    try {
      execFileSync(shell, ['-n', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
      if (err.code !== 'ENOENT') assert.unreachable(`${shell}: ${String(err.stderr)}`);
    }
  }
});

test('fish completes subcommands, flags and fixed values (when fish is here)', () => {
  const file = path.join(tmp, 'berth.fish');
  writeFileSync(file, completionScript('fish', tree, VERSION));
  const complete = (line: string) => {
    try {
      return execFileSync('fish', ['-c', `source ${file}; complete -C '${line}'`], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      })
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  };
  const subs = complete('berth oci cr');
  if (subs === undefined) return;
  assert.equal(subs, ['create']);
  assert.equal(complete('berth exec --runt'), ['--runtime']);
  assert.equal(complete('berth exec --runtime '), ['crun', 'runc']);
  assert.equal(complete('berth completion '), ['bash', 'fish', 'zsh']);
});

test('every command of the tree has an entry; run/exec/shell stop after the image', () => {
  const list = entries(tree);
  const paths = list.map((e) => e.path);
  for (const p of ['berth', 'berth exec', 'berth oci create', 'berth cache clean', 'berth pull'])
    assert.ok(paths.includes(p), p);
  assert.is(list.find((e) => e.path === 'berth exec')?.rest, 1);
  assert.is(list.find((e) => e.path === 'berth oci exec')?.rest, 1);
  assert.is(list.find((e) => e.path === 'berth pull')?.rest, undefined);
});

test('descriptions are one short line without the [env: ...] note', () => {
  assert.is(shortDescription('bind a path [env: BERTH_BIND, SINGULARITY_BINDPATH]'), 'bind a path');
  const long = shortDescription('word '.repeat(40));
  assert.ok(long.length <= 90 && long.endsWith('...'), long);
});

test('berth completion bash prints the script; an unknown shell is a usage error', async () => {
  const t = captureIo();
  assert.is(await main(['completion', 'bash'], t.io), 0);
  assert.is(t.out(), bash);
  const bad = captureIo();
  assert.is(await main(['completion', 'tcsh'], bad.io), 255);
  assert.is(bad.out(), '');
  assert.match(bad.err(), /^berth: no completion for the shell "tcsh": bash, zsh or fish\nhint: /);
});

test('-v is --verbose (a global flag), -V and --version the version', async () => {
  for (const argv of [
    ['-v', 'version'],
    ['version', '--verbose'],
  ]) {
    const t = captureIo();
    assert.is(await main(argv, t.io), 0, t.err());
    assert.is(t.out(), `${VERSION}\n`);
  }
  const h = captureIo();
  assert.is(await main(['--help'], h.io), 0);
  assert.match(h.out(), /-v, --verbose/);
  assert.match(h.out(), /-V, --version/);
});

test('-v makes run/exec/shell say where each setting came from before the launch', async () => {
  const argv = ['exec', '--bind', '/tmp', 'oci:/nonexistent/layout', 'true'];
  const verbose = captureIo();
  assert.is(await main(['-v', ...argv], verbose.io), 255);
  assert.match(verbose.err(), /^berth: setting: --bind "\/tmp" from the command line\n/);
  const plain = captureIo();
  assert.is(await main(argv, plain.io), 255);
  assert.not.match(plain.err(), /berth: setting:/);
});

test.run();
