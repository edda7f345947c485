// Needs: root, conmon, crun or runc, a bundle whose process.terminal is false (the first
// argument) and a new state directory (the second).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createContainer } from '@berth-oci/conmon-create';
import { findRuntime } from '@berth-oci/runtime-ops';

const [bundle = 'bundle', stateDir = 'state'] = process.argv.slice(2).map((a) => resolve(a));
const run = promisify(execFile);
const runtime = await findRuntime(); // { name: 'runc', path: '/usr/sbin/runc' }
const runtimeArgs = ['--root', join(stateDir, 'runtime')];
const c = await createContainer({
  id: 'c1',
  bundle, // conmon makes <bundle>/attach (see @berth-oci/attach)
  stateDir, // pid files, exit file, logs
  runtimePath: runtime.path,
  runtimeArgs,
  terminal: false, // the bundle's process.terminal: conmon -t, else -i
});
// c.pid: the container's init; c.conmonPid: the daemonized conmon. Status: created.
console.log(`created: init ${c.pid > 0}, conmon ${c.conmonPid > 0}`);
await run(runtime.path, [...runtimeArgs, 'start', 'c1']);
// conmon writes the exit status into its exit file when the container exits
while (!existsSync(c.files.exitFile)) await sleep(50);
console.log(`exit status ${(await readFile(c.files.exitFile, 'utf8')).trim()}`);
await run(runtime.path, [...runtimeArgs, 'delete', '--force', 'c1']);
