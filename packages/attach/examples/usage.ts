// Needs: a container created under conmon and not started yet, whose bundle is the first
// argument; the rest is the command that starts it, run once attached (for one made by
// `berth oci create -b BUNDLE c1`: BUNDLE berth oci start c1).
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { attach } from '@berth-oci/attach';

const [bundle = 'bundle', start = 'berth', ...startArgs] = process.argv.slice(2);
const startTheContainer = () => promisify(execFile)(start, startArgs);
const { detached } = await attach({
  bundle: resolve(bundle),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  tty: true, // the container has a terminal (process.terminal), as berth oci mount makes it
  detachKeys: 'ctrl-p,ctrl-q', // the default; '' disables
  onAttached: () => startTheContainer(), // connected: nothing of its output is missed
});
console.log(detached ? 'detached: the container runs on' : 'the container exited');
