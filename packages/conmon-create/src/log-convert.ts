/**
 * conmon's exit command for `--log-format json`: `node log-convert.js FROM TO` converts the
 * container's k8s-file log FROM into JSON lines at TO once the container has exited.
 */
import { convertLogFile } from './log.js';

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  process.stderr.write('usage: log-convert.js FROM TO\n');
  process.exit(2);
}
convertLogFile(from, to).catch((e: unknown) => {
  process.stderr.write(`berth: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
