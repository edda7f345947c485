#!/usr/bin/env -S node --
// The `--` stops Node 20 from reading berth's own `--env-file FILE` as its own option (it scans
// the arguments after the script name too, and exits 9 when FILE is not found beside it).
import { fastMain } from './fast-path.js';
import { personalityArgv, personalityOf } from './personality.js';

// called as `singularity` or `apptainer` (a symlink), berth takes upstream's native defaults
const personal = personalityArgv(personalityOf(process.argv[1]), process.argv.slice(2));
if ('version' in personal) {
  process.stdout.write(`${personal.version}\n`);
  process.exit(0);
}
const argv = personal.argv;
// run/exec/shell with ordinary options skip yargs entirely; everything else takes the full CLI.
const code = (await fastMain(argv)) ?? (await (await import('./main.js')).main(argv));
process.exit(code);
