import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { followLog, LOG_CONVERTER_NODE_ARGS, LOG_CONVERTER_PATH } from '../src/log.js';

const run = promisify(execFile);
const read = (f: string) => readFile(f, 'utf8').catch(() => '');
async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 5000;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const logs = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { log: string }).log);

test('followLog: each complete line shows up while the container runs; all of it at the end', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'follow-'));
  const from = path.join(dir, 'container.log');
  const to = path.join(dir, 'log.json');
  const exitFile = path.join(dir, 'exit');
  const done = followLog(from, to, { exitFile, conmonPid: process.pid, intervalMs: 20 });
  await appendFile(from, 't1 stdout F one\n');
  await until('the first line', async () => logs(await read(to)).includes('one\n'));
  await appendFile(from, 't2 stderr F tw');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(logs(await read(to)), ['one\n'], 'half a line waits for its end');
  await appendFile(from, 'o\nt3 stdout P par');
  await until('the second line', async () => logs(await read(to)).includes('two\n'));
  await writeFile(exitFile, '0');
  await done;
  assert.equal(logs(await read(to)), ['one\n', 'two\n', 'par']);
});

test('the log-convert entry: one-shot, and --follow ending with conmon and removing its pid file', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'follow-'));
  const from = path.join(dir, 'container.log');
  await writeFile(from, 't1 stdout F hello\n');
  const node = (args: string[]) =>
    run(process.execPath, [...LOG_CONVERTER_NODE_ARGS, LOG_CONVERTER_PATH, ...args]);
  await node([from, path.join(dir, 'a.json')]);
  assert.equal(logs(await read(path.join(dir, 'a.json'))), ['hello\n']);
  const pidFile = path.join(dir, 'log-convert.pid');
  await writeFile(pidFile, '1');
  const dead = String(2 ** 22 + 4321);
  await node(['--follow', from, path.join(dir, 'b.json'), path.join(dir, 'exit'), dead, pidFile]);
  assert.equal(logs(await read(path.join(dir, 'b.json'))), ['hello\n']);
  assert.not.ok(
    await stat(pidFile).then(
      () => true,
      () => false,
    ),
  );
  const bad = await node([]).catch((e: { code?: number; stderr?: string }) => e);
  assert.is((bad as { code?: number }).code, 2);
});

test.run();
