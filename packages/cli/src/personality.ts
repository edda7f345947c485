/**
 * berth called as `singularity` or `apptainer` (a symlink to its bin, as podman's `docker`
 * link is): the version line that tools parse, SingularityCE's *native* defaults for
 * run/exec/shell (the ones workflow engines were written for), and upstream's global flags
 * before the command. Called under any other name, berth is itself and nothing changes.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { actionFlag } from './options/flags.js';

/** The name berth answers to. */
export type Personality = 'berth' | 'singularity' | 'apptainer';

/** The upstream release whose behaviour berth follows, as its version line reports it. */
export const UPSTREAM_VERSIONS = { singularity: '4.1.0', apptainer: '1.3.0' } as const;

/** Which personality a program name (`process.argv[1]`, a path) selects. */
export function personalityOf(program: string | undefined): Personality {
  const name = path.basename(program ?? '');
  return name === 'singularity' || name === 'apptainer' ? name : 'berth';
}

/**
 * The `--version` line: upstream's product and version last (Snakemake 7 takes the last word
 * as the version, and for Apptainer wants the line to start with `apptainer`), berth's own
 * version in between: `singularity-ce (berth 0.1.0) version 4.1.0`.
 */
export function versionLine(p: Exclude<Personality, 'berth'>, berthVersion: string): string {
  const product = p === 'singularity' ? 'singularity-ce' : 'apptainer';
  return `${product} (berth ${berthVersion}) version ${UPSTREAM_VERSIONS[p]}`;
}

function ownVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

const ACTIONS = new Set(['run', 'exec', 'shell']);
/** Upstream's global flags that berth takes on the command itself (`--quiet` on run/exec/shell/pull). */
const GLOBAL_TO_COMMAND: Record<string, string> = {
  '--quiet': '--quiet',
  '-q': '--quiet',
  '--silent': '--quiet',
  '-s': '--quiet',
  '--debug': '--debug',
  '-d': '--debug',
};

/**
 * The argument list berth parses for a personality:
 * - upstream's global `--quiet`/`-q`, `--silent`/`-s` and `--debug`/`-d` before the command
 *   move after it (`singularity --quiet exec ...` is `exec --quiet ...`);
 * - `--version`/`-V`/`version` alone: `{ version }`, the line to print;
 * - run/exec/shell get `--no-compat` (SingularityCE's native defaults: host $HOME, cwd, /tmp
 *   and /var/tmp bound, the host environment passed in, a lone `--home DIR` bound at the same
 *   path, host /dev with crun, the umask, a read-only root), unless `--oci` is given before the
 *   image, which asks for upstream's OCI mode: berth's compat defaults (and is removed).
 */
export function personalityArgv(
  p: Personality,
  argv: string[],
  berthVersion = ownVersion(),
): { argv: string[] } | { version: string } {
  if (p === 'berth') return { argv };
  const globals: string[] = [];
  let i = 0;
  while (i < argv.length && GLOBAL_TO_COMMAND[argv[i] as string] !== undefined) {
    const flag = GLOBAL_TO_COMMAND[argv[i] as string] as string;
    if (!globals.includes(flag)) globals.push(flag);
    i++;
  }
  const rest = argv.slice(i);
  const command = rest[0];
  if (rest.length === 1 && (command === '--version' || command === '-V' || command === 'version')) {
    return { version: versionLine(p, berthVersion) };
  }
  if (command === undefined) return { argv: [...globals, ...rest] };
  const tail = rest.slice(1);
  if (!ACTIONS.has(command)) {
    const keep = command === 'pull' ? globals.filter((g) => g === '--quiet') : [];
    return { argv: [command, ...keep, ...tail] };
  }
  // --oci among the options (they end at the image, the first word that is no option's value)
  let oci = -1;
  for (let j = 0; j < tail.length; j++) {
    const a = tail[j] as string;
    if (a === '--' || !a.startsWith('-') || a === '-') break;
    if (a === '--oci') {
      oci = j;
      break;
    }
    const def = a.includes('=') ? undefined : actionFlag(a);
    if (def !== undefined && def.kind !== 'boolean') j++; // skip its value
  }
  if (oci >= 0) return { argv: [command, ...globals, ...tail.filter((_, j) => j !== oci)] };
  return { argv: [command, ...globals, '--no-compat', ...tail] };
}
