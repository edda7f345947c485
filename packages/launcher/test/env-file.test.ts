// biome-ignore-all lint/suspicious/noTemplateCurlyInString: env files are shell syntax
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluateEnvFile, readEnvFile } from '../src/env-file.js';
import { rejects } from './helpers.js';

const ev = (text: string, env: Record<string, string> = {}) =>
  Object.fromEntries(evaluateEnvFile(text, env, 'f.env'));

test('assignments, quotes, escapes, comments', () => {
  assert.equal(
    ev(
      [
        '# a comment',
        'A=plain',
        "B='single $A'",
        'C="double $A \\"q\\" \\$A"',
        'D=a\\ b  # trailing comment',
        'E=one E2=two; F=three',
        'G=',
        'H="multi',
        'line"',
        'I=con\\',
        'tinued',
      ].join('\n'),
    ),
    {
      A: 'plain',
      B: 'single $A',
      C: 'double plain "q" $A',
      D: 'a b',
      E: 'one',
      E2: 'two',
      F: 'three',
      G: '',
      H: 'multi\nline',
      I: 'continued',
    },
  );
});

test('expansions read the host environment and earlier assignments; host variables are not returned', () => {
  assert.equal(
    ev(
      'X=$HOSTV/x\nY=${X}y\nZ=${UNSET:-dflt}\nW=${HOSTV:+alt}\nV=${UNSET-}\nU=${NEW:=made}\nT=$NEW',
      { HOSTV: 'h', OTHER: 'o' },
    ),
    { X: 'h/x', Y: 'h/xy', Z: 'dflt', W: 'alt', V: '', U: 'made', T: 'made' },
  );
});

test('export and unset; an exported host variable is returned', () => {
  assert.equal(ev('export A=1 B\nexport HOSTV\nC=3\nunset C', { HOSTV: 'h' }), {
    A: '1',
    HOSTV: 'h',
  });
});

test("the shell's read-only variables are dropped (upstream strips them)", () => {
  assert.equal(ev('HOME=/x\nUID=5\nPWD=/p\nKEEP=1'), { KEEP: '1' });
});

for (const [text, message] of [
  ['echo hi', /could not execute "echo hi": execution is disabled/],
  ['A=1 cmd', /could not execute "cmd"/],
  ['A=$(id -u)', /command substitution/],
  ['A=`id -u`', /command substitution/],
  ['A="$(id)"', /command substitution/],
  ["A='open", /single-quoted string is not closed/],
  ['A="open', /double-quoted string is not closed/],
  ['A=${B', /not closed/],
  ['A=1 | x', /"\|" is not allowed/],
  ['A=${B:?missing}', /B: missing/],
] as const) {
  test(`refused: ${text}`, async () => {
    await rejects(() => evaluateEnvFile(text, {}, 'bad.env'), 'ERR_LAUNCH_ENV_FILE', message);
  });
}

test('errors name the file and line; a missing file is ERR_LAUNCH_ENV_FILE', async () => {
  await rejects(
    () => evaluateEnvFile('A=1\n\nrm -rf /', {}, 'x.env'),
    'ERR_LAUNCH_ENV_FILE',
    /x\.env \(line 3\)/,
  );
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-envfile-'));
  try {
    await writeFile(path.join(dir, 'a.env'), 'A=$B\n');
    assert.equal(Object.fromEntries(await readEnvFile(path.join(dir, 'a.env'), { B: 'b' })), {
      A: 'b',
    });
    await rejects(
      () => readEnvFile(path.join(dir, 'none.env'), {}),
      'ERR_LAUNCH_ENV_FILE',
      /could not read environment file/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readEnvFile refuses a file holding a NUL byte, naming it and the line', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'envnul-'));
  const file = path.join(dir, 'env');
  await writeFile(file, 'A=1\nB=2\0C=3\n');
  await rejects(() => readEnvFile(file, {}), 'ERR_LAUNCH_ENV_FILE', /holds a NUL byte \(line 2\)/);
  await rm(dir, { recursive: true, force: true });
});

test.run();
