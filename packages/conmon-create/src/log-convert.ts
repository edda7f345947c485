/**
 * The log converter, a helper process (declared in package.json under `berth.helpers`).
 * `node log-convert.js FROM TO` converts the k8s-file log FROM into JSON lines at TO once;
 * `node log-convert.js --follow FROM TO EXITFILE CONMONPID PIDFILE` keeps TO up to date while
 * the container runs (see `followLog`), and removes PIDFILE (its pid, written by the parent)
 * when done.
 */
import { rm } from 'node:fs/promises';
import { convertLogFile, followLog } from './log.js';

async function main(args: string[]): Promise<void> {
  if (args[0] === '--follow' && args.length === 6) {
    const [, from, to, exitFile, conmonPid, pidFile] = args as [string, ...string[]];
    try {
      await followLog(from as string, to as string, {
        exitFile: exitFile as string,
        conmonPid: Number(conmonPid) || undefined,
      });
    } finally {
      await rm(pidFile as string, { force: true });
    }
    return;
  }
  if (args.length === 2) return convertLogFile(args[0] as string, args[1] as string);
  process.stderr.write(
    'usage: log-convert.js FROM TO | --follow FROM TO EXITFILE CONMONPID PIDFILE\n',
  );
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`berth: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
