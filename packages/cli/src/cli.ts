#!/usr/bin/env node
import { fastMain } from './fast-path.js';

const argv = process.argv.slice(2);
// run/exec/shell with ordinary options skip yargs entirely; everything else takes the full CLI.
const code = (await fastMain(argv)) ?? (await (await import('./main.js')).main(argv));
process.exit(code);
