import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkWritablePath } from '../src/user-paths.js';

const run = promisify(execFile);
const CHECK = fileURLToPath(new URL('./fixtures/check-path.ts', import.meta.url));

async function outcome(file: string): Promise<string> {
  try {
    await checkWritablePath(file, 'pid file');
    return 'ok';
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
}

test('checkWritablePath: a writable place is fine; each defect named with the path', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'paths-'));
  assert.is(await outcome(path.join(dir, 'x.pid')), 'ok');
  await writeFile(path.join(dir, 'file'), '');
  assert.is(await outcome(path.join(dir, 'file')), 'ok', 'an existing file is overwritten');
  assert.is(
    await outcome(path.join(dir, 'no', 'x.pid')),
    `ERR_CONMON_PATH: cannot write the pid file "${dir}/no/x.pid": its directory "${dir}/no" does not exist`,
  );
  assert.match(await outcome(path.join(dir, 'file', 'x.pid')), /"[^"]+\/file" is not a directory$/);
  await mkdir(path.join(dir, 'sub'));
  assert.match(await outcome(path.join(dir, 'sub')), /: it is a directory$/);
});

test('checkWritablePath: a directory an ordinary user may not write is refused as theirs', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'paths-'));
  await chmod(dir, 0o555);
  const file = path.join(dir, 'x.pid');
  // run the check as an ordinary user (as root, through setpriv as nobody)
  const argv =
    process.getuid?.() === 0
      ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath]
      : [process.execPath];
  const { stdout } = await run(argv[0] as string, [...argv.slice(1), '--import=tsx', CHECK, file], {
    env: { ...process.env, HOME: os.tmpdir() },
  });
  assert.is(
    stdout.trim(),
    `ERR_CONMON_PATH: cannot write the pid file "${file}": permission denied`,
  );
});

test.run();
