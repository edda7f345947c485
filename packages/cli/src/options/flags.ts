import {
  BERTH_GROUP,
  type FlagSpec,
  IMAGE_OPTION_TABLE,
  LAUNCH_OPTION_TABLE,
  type OptionSpec,
  optionEnvKeys,
} from '@berth-oci/launcher';
import type { Options } from 'yargs';

/** The flags of run/exec/shell that are the CLI's own (no `launch()` option). */
const CLI_ACTION_FLAGS: readonly FlagSpec[] = [
  {
    flag: 'dry-run',
    kind: 'boolean',
    group: BERTH_GROUP,
    description: 'print the config.json berth would run, and exit without running it',
  },
  {
    flag: 'quiet',
    short: ['q'],
    kind: 'boolean',
    group: BERTH_GROUP,
    description: 'print no warnings or progress',
  },
];

/** Every flag of run/exec/shell, in `--help` order: the launcher's option table, then berth's own. */
export const ACTION_FLAGS: readonly FlagSpec[] = [...LAUNCH_OPTION_TABLE, ...CLI_ACTION_FLAGS];

/** The flags of `berth pull` that set a `pull()` option: the image options and `--fakeroot`. */
export const PULL_OPTION_FLAGS: readonly OptionSpec[] = [
  ...IMAGE_OPTION_TABLE,
  {
    flag: 'fakeroot',
    short: ['f'],
    key: 'fakeroot',
    kind: 'boolean',
    description: 'prepare the rootfs --fakeroot launches use',
  },
];

/** Every flag of `berth pull`, in `--help` order. */
export const PULL_FLAGS: readonly FlagSpec[] = [
  ...PULL_OPTION_FLAGS,
  { flag: 'quiet', short: ['q'], kind: 'boolean', description: 'print no warnings or progress' },
];

/** The other names of a flag (`B` for `bind`, `pwd` for `cwd`). */
export const aliasesOf = (f: FlagSpec): string[] => [...(f.short ?? []), ...(f.aliases ?? [])];

/**
 * The variables of a flag that sets an option, as `--help` names them: `BERTH_<FLAG>`, and
 * upstream's `SINGULARITY_` names where they differ (`SINGULARITY_NOHTTPS`); the `APPTAINER_`
 * forms are read too, and said once in the epilog (`ENV_HELP`).
 */
export function envHelp(f: FlagSpec): string {
  const keys = optionEnvKeys(f);
  const own = keys[0] as string;
  const upstream = keys.filter(
    (k) => k.startsWith('SINGULARITY_') && k.slice('SINGULARITY_'.length) !== own.slice(6),
  );
  return `[env: ${[own, ...upstream].join(', ')}]`;
}

/** The `--help` epilog line on variables. */
export const ENV_HELP =
  'Each option can be set by its variable ([env: ...]; true/false, 1/0, yes/no for switches, comma-separated lists), or by APPTAINER_<NAME> and SINGULARITY_<NAME> as upstream names it; the command line wins (--bind and --mount add to it); BERTH_ wins over APPTAINER_, which wins over SINGULARITY_.';

/** The yargs options of a list of flags; `withEnv`: name each option's variables. */
export function yargsOptions(flags: readonly FlagSpec[], withEnv = false): Record<string, Options> {
  const out: Record<string, Options> = {};
  for (const f of flags) {
    const alias = aliasesOf(f);
    const sets = withEnv && 'key' in f;
    out[f.flag] = {
      ...(alias.length > 0 && { alias }),
      type: f.kind === 'boolean' ? 'boolean' : f.kind === 'number' ? 'number' : 'string',
      ...(f.group !== undefined && { group: f.group }),
      description: sets ? `${f.description} ${envHelp(f)}` : f.description,
      ...(f.hidden === true && { hidden: true }),
    };
  }
  return out;
}

/** Each spelling of each flag (`--bind`, `-B`, `--pwd`), to its spec. */
export function flagIndex(flags: readonly FlagSpec[]): Map<string, FlagSpec> {
  const index = new Map<string, FlagSpec>();
  for (const f of flags) {
    index.set(`--${f.flag}`, f);
    for (const s of f.short ?? []) index.set(`-${s}`, f);
    for (const a of f.aliases ?? []) index.set(`--${a}`, f);
  }
  return index;
}

const ACTION_FLAG_INDEX = flagIndex(ACTION_FLAGS);

/** The spec of a spelling of a run/exec/shell flag (`-B`), if there is one. */
export const actionFlag = (spelling: string): FlagSpec | undefined =>
  ACTION_FLAG_INDEX.get(spelling);

/**
 * Everything after the image belongs to the container command, even what looks like a berth
 * option (`berth exec IMG sh -c 'exit 3'`): inserts `--` after the image so that yargs leaves
 * the rest alone.
 */
export function splitAtImage(argv: string[]): string[] {
  if (!['run', 'exec', 'shell'].includes(argv[0] ?? '')) return argv;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return argv;
    if (a.startsWith('-') && a !== '-') {
      if (a.includes('=')) continue;
      const last = a.startsWith('--') ? a : `-${a.at(-1)}`;
      const spec = actionFlag(last);
      if (spec !== undefined && spec.kind !== 'boolean') i++;
      continue;
    }
    return [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)];
  }
  return argv;
}

/** How image references are written, for help texts. */
export const IMAGE_REFERENCE_HELP =
  'image reference: docker://[HOST/]NAME[:TAG|@DIGEST], oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE, or a path';
