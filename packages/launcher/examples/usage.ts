// Needs: crun or runc; root, or subuid/subgid ranges and newuidmap (uidmap) as a user; and
// an image: the first argument (default docker://alpine:3.20, which needs the network).
import { openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LaunchError, launch, start } from '@berth-oci/launcher';

const image = process.argv[2] ?? 'docker://alpine:3.20';

// Run a command and wait for it: the container's exit status (128+n when a signal ended it).
// berth's own failures (no runtime, a bad image, ...) are thrown, never an exit status.
const { exitCode } = await launch({
  image,
  action: 'exec',
  args: ['id', '-u'],
  binds: ['/etc:/host-etc:ro'],
  onWarning: (message) => console.error(`warning: ${message}`),
});
console.log(`exit status ${exitCode}`);

// Start a container, capture its output in a file, pass SIGINT on, give up after a minute.
const logFile = join(tmpdir(), `job-${process.pid}.log`);
const log = openSync(logFile, 'w');
try {
  const container = await start({
    image,
    action: 'exec',
    args: ['sh', '-c', 'echo working; sleep 1'],
    stdio: ['ignore', log, log],
    signal: AbortSignal.timeout(60_000), // SIGTERM, then SIGKILL after 10 s
  });
  const forward = () => container.kill('SIGINT');
  process.on('SIGINT', forward);
  const status = await container.exited; // the bundle is removed by then
  process.off('SIGINT', forward);
  console.log(`exit status ${status.exitCode}: ${await readFile(logFile, 'utf8')}`);
} catch (e) {
  // aborted before the container started: nothing is left behind
  if (LaunchError.isInstance(e) && e.code === 'ERR_LAUNCH_INTERRUPTED') console.error(e.message);
  else throw e;
}
