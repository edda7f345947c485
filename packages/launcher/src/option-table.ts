import type * as v from 'valibot';
import { CgroupLimitsSchema, type LaunchOptions, LaunchOptionsSchema } from './options.js';

/**
 * How a flag's values become an option's value:
 * - `boolean`: a flag without a value (`true` when given);
 * - `string`, `number`: one value (the last one when repeated);
 * - `list`: repeatable, each value kept whole;
 * - `csv`: repeatable, each value a comma-separated list (trimmed, empty parts dropped);
 * - `env`: repeatable `NAME=value[,NAME=value...]` (a comma inside a value stays with it);
 * - `present`: takes a value, but only whether it was given counts (`true`).
 */
export type OptionKind = 'boolean' | 'string' | 'number' | 'list' | 'csv' | 'env' | 'present';

/** A command-line flag: its names, how it takes values, and its help. */
export interface FlagSpec {
  /** The long flag, without `--` (`bind`). */
  flag: string;
  /** One-letter forms, without `-` (`B`). */
  short?: readonly string[];
  /** Other long forms, without `--` (`pwd` for `cwd`). */
  aliases?: readonly string[];
  kind: OptionKind;
  /** The heading it is listed under in `--help` (hidden flags have none). */
  group?: string;
  description: string;
  /** Accepted but left out of `--help` (the refused ones). */
  hidden?: boolean;
  /**
   * Upstream's names for its `APPTAINER_`/`SINGULARITY_` variables, where they differ from the
   * flag's (`BIND`, `BINDPATH` for `--bind`); see `optionEnvKeys`.
   */
  envNames?: readonly string[];
  /**
   * The variable's value is added after the command line's values instead of being ignored when
   * the flag is given (upstream's `EnvAppendValue`: `--bind`, `--mount`).
   */
  envAppend?: boolean;
  /**
   * The variable's value is one entry, commas included (`MOUNT`); other list-valued variables
   * are comma-separated lists.
   */
  envWhole?: boolean;
  /** A boolean set by a variable whose value is not a boolean (any non-empty value sets it). */
  envPresence?: boolean;
}

/** A `LaunchOptions` key, or `limits.<key>` for a cgroup limit. */
export type OptionKey =
  | Exclude<keyof LaunchOptions, 'limits'>
  | `limits.${keyof NonNullable<LaunchOptions['limits']>}`;

/** A flag of run/exec/shell (or pull) and the option it sets. */
export interface OptionSpec extends FlagSpec {
  key: OptionKey;
  /**
   * SingularityCE's OCI mode refuses this flag: upstream's names of the options it sets, as its
   * `not supported by OCI launcher: ...` message names them.
   */
  refused?: readonly string[];
  /** The position of a refused flag in the `--help` list of refused flags. */
  refusedRank?: number;
}

/** A table row: the spec and the valibot schema of the option it sets. */
export type OptionRow = Readonly<OptionSpec> & { readonly schema: v.GenericSchema };

const G_MOUNTS = 'Mounts and directories:';
const G_ENV = 'Environment:';
const G_ID = 'Identity and privileges:';
const G_NS = 'Namespaces and network:';
const G_RES = 'Devices and cgroup limits:';
/** The `--help` heading of berth's own options (the CLI adds its `--dry-run` and `--quiet`). */
export const BERTH_GROUP = 'berth:';
const G_IMAGE = 'Images and registries:';

const refused = (rank: number, ...names: string[]) => ({
  hidden: true,
  description: 'refused',
  refused: names,
  refusedRank: rank,
});

/** The image transport options of run/exec/shell and pull, in `--help` order. */
const IMAGE_SPECS: OptionSpec[] = [
  {
    flag: 'platform',
    key: 'platform',
    kind: 'string',
    group: G_IMAGE,
    description: "OS/ARCH[/VARIANT] to pick from a multi-platform image (default: this host's)",
  },
  {
    flag: 'authfile',
    key: 'authFile',
    kind: 'string',
    group: G_IMAGE,
    description:
      'registry credentials file (default: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json, ~/.docker/config.json)',
  },
  {
    flag: 'docker-username',
    key: 'dockerUsername',
    kind: 'string',
    group: G_IMAGE,
    description: 'registry user name (default: $DOCKER_USERNAME)',
  },
  {
    flag: 'docker-password',
    key: 'dockerPassword',
    kind: 'string',
    group: G_IMAGE,
    description: 'registry password or token (default: $DOCKER_PASSWORD)',
  },
  {
    flag: 'no-https',
    aliases: ['nohttps'],
    key: 'noHttps',
    kind: 'boolean',
    group: G_IMAGE,
    description: 'speak plain HTTP to docker:// registries',
    envNames: ['NOHTTPS', 'NO_HTTPS'],
  },
  {
    flag: 'disable-cache',
    key: 'disableCache',
    kind: 'boolean',
    group: G_IMAGE,
    description: 'use no cache: fetch and unpack into a temporary directory, removed afterwards',
  },
];

/**
 * The options of run/exec/shell, with SingularityCE's names, short forms and meanings, in
 * `--help` order. Hidden ones are accepted only to be refused as upstream refuses them in OCI
 * mode.
 */
const LAUNCH_SPECS: OptionSpec[] = [
  {
    flag: 'bind',
    short: ['B'],
    key: 'binds',
    kind: 'list',
    group: G_MOUNTS,
    description: 'bind a host path: src[:dst[:ro|rw]], repeatable or comma-separated',
    envNames: ['BIND', 'BINDPATH'],
    envAppend: true,
  },
  {
    flag: 'mount',
    key: 'mounts',
    kind: 'list',
    group: G_MOUNTS,
    description: 'bind a host path: type=bind,src=HOST,dst=CONTAINER[,ro], repeatable',
    envAppend: true,
    envWhole: true,
  },
  {
    flag: 'home',
    short: ['H'],
    key: 'home',
    kind: 'string',
    group: G_MOUNTS,
    description:
      'home directory: DST (a tmpfs there) or SRC:DST (the host SRC bound there); default: a tmpfs at your home path',
  },
  {
    flag: 'no-home',
    key: 'noHome',
    kind: 'boolean',
    group: G_MOUNTS,
    description: 'do not mount a home directory',
  },
  {
    flag: 'workdir',
    short: ['W'],
    key: 'workdir',
    kind: 'string',
    group: G_MOUNTS,
    description: 'host directory for /tmp, /var/tmp and --scratch (its tmp, var_tmp, scratch)',
  },
  {
    flag: 'scratch',
    short: ['S'],
    key: 'scratch',
    kind: 'csv',
    group: G_MOUNTS,
    description: 'an empty scratch directory at this container path, repeatable',
    envNames: ['SCRATCH', 'SCRATCHDIR'],
  },
  {
    flag: 'cwd',
    aliases: ['pwd'],
    key: 'cwd',
    kind: 'string',
    group: G_MOUNTS,
    description:
      "initial working directory inside the container (default: the image's WorkingDir, else home)",
    envNames: ['CWD', 'TARGET_CWD', 'PWD', 'TARGET_PWD'],
  },
  {
    flag: 'no-mount',
    key: 'noMount',
    kind: 'csv',
    group: G_MOUNTS,
    description:
      'leave out default mounts: proc, sys, tmp, home, cwd, bind-paths, /etc/resolv.conf (comma-separated)',
  },
  {
    flag: 'writable-tmpfs',
    key: 'writableTmpfs',
    kind: 'boolean',
    group: G_MOUNTS,
    description: 'a writable root in a tmpfs overlay (the default; needed with --no-compat)',
  },
  {
    flag: 'overlay',
    short: ['o'],
    key: 'overlays',
    kind: 'list',
    group: G_MOUNTS,
    description:
      'DIR[:ro]: a directory overlay on the root, repeatable (first on top, one writable)',
    envNames: ['OVERLAY', 'OVERLAYIMAGE'],
  },
  {
    flag: 'writable',
    short: ['w'],
    key: 'writable',
    kind: 'boolean',
    group: G_MOUNTS,
    description: "make the image's own overlay writable (images berth runs have none)",
  },
  {
    flag: 'no-compat',
    key: 'noCompat',
    kind: 'boolean',
    group: G_MOUNTS,
    description:
      "SingularityCE's native defaults: read-only root; host /tmp, /var/tmp, home, cwd, /dev (crun), umask and environment",
  },
  {
    flag: 'compat',
    key: 'compat',
    kind: 'boolean',
    group: G_MOUNTS,
    description: 'refused: in OCI mode it implies --containall and --no-init',
    refused: ['NoInit', 'ContainAll'],
    refusedRank: 3,
  },
  {
    flag: 'no-umask',
    key: 'noUmask',
    kind: 'boolean',
    group: G_MOUNTS,
    description: 'with --no-compat, do not pass your umask (the container gets 0022)',
  },
  {
    flag: 'env',
    key: 'env',
    kind: 'env',
    group: G_ENV,
    description: 'set container variables: NAME=value[,NAME=value...], repeatable',
    envNames: [],
  },
  {
    flag: 'env-file',
    key: 'envFiles',
    kind: 'list',
    group: G_ENV,
    description: 'set container variables from a file of NAME=value lines, repeatable',
  },
  {
    flag: 'cleanenv',
    short: ['e'],
    key: 'cleanEnv',
    kind: 'boolean',
    group: G_ENV,
    description:
      'pass no host variables but TERM and the proxies (not the scheduler and MPI ones either)',
  },
  {
    flag: 'fakeroot',
    short: ['f'],
    key: 'fakeroot',
    kind: 'boolean',
    group: G_ID,
    description: 'run as root (uid 0) inside the container, mapped to you outside',
  },
  {
    flag: 'no-setgroups',
    key: 'noSetgroups',
    kind: 'boolean',
    group: G_ID,
    description: 'keep your supplementary groups in the container (crun only)',
  },
  {
    flag: 'userns',
    short: ['u'],
    key: 'userns',
    kind: 'boolean',
    group: G_ID,
    description: 'as root, run in a new user namespace (always the case as a user)',
    envNames: ['USERNS', 'UNSHARE_USERNS'],
  },
  {
    flag: 'keep-privs',
    key: 'keepPrivs',
    kind: 'boolean',
    group: G_ID,
    description: 'start from all your capabilities instead of the default set',
  },
  {
    flag: 'no-privs',
    key: 'noPrivs',
    kind: 'boolean',
    group: G_ID,
    description: 'drop all capabilities and set no_new_privs',
  },
  {
    flag: 'add-caps',
    key: 'addCaps',
    kind: 'list',
    group: G_ID,
    description: 'capabilities to add: CAP_NET_ADMIN,sys_ptrace,... (ALL for every one)',
  },
  {
    flag: 'drop-caps',
    key: 'dropCaps',
    kind: 'list',
    group: G_ID,
    description: 'capabilities to drop (comma-separated, ALL for every one)',
  },
  {
    flag: 'allow-setuid',
    key: 'allowSetuid',
    kind: 'boolean',
    group: G_ID,
    description: 'allow setuid binaries in binds, home, workdir, scratch and the overlay tmpfs',
  },
  {
    flag: 'net',
    short: ['n'],
    key: 'net',
    kind: 'boolean',
    group: G_NS,
    description: 'a new network namespace; only with --network none (loopback only)',
    envNames: ['NET', 'UNSHARE_NET'],
  },
  {
    flag: 'network',
    key: 'network',
    kind: 'string',
    group: G_NS,
    description: 'network type with --net: only none is supported (default: bridge, refused)',
  },
  {
    flag: 'hostname',
    key: 'hostname',
    kind: 'string',
    group: G_NS,
    description: 'the container host name (implies --uts)',
  },
  {
    flag: 'uts',
    key: 'uts',
    kind: 'boolean',
    group: G_NS,
    description: 'a new UTS namespace',
    envNames: ['UTS', 'UNSHARE_UTS'],
  },
  {
    flag: 'dns',
    key: 'dns',
    kind: 'string',
    group: G_NS,
    description: "nameserver IPs for the container's /etc/resolv.conf (comma-separated)",
  },
  {
    flag: 'no-pid',
    key: 'noPid',
    kind: 'boolean',
    group: G_NS,
    description: "no PID namespace: the host's processes and /proc",
  },
  {
    flag: 'pid',
    short: ['p'],
    key: 'pid',
    kind: 'boolean',
    group: G_NS,
    description: 'redundant: always on',
    envNames: ['PID', 'UNSHARE_PID'],
  },
  {
    flag: 'ipc',
    short: ['i'],
    key: 'ipc',
    kind: 'boolean',
    group: G_NS,
    description: 'redundant: always on',
    envNames: ['IPC', 'UNSHARE_IPC'],
  },
  {
    flag: 'device',
    key: 'devices',
    kind: 'csv',
    group: G_RES,
    description: 'a CDI device: vendor.com/class=name, repeatable or comma-separated',
    envNames: [],
  },
  {
    flag: 'cdi-dirs',
    key: 'cdiDirs',
    kind: 'csv',
    group: G_RES,
    description: 'directories of CDI specs (default: /etc/cdi, /var/run/cdi)',
    envNames: [],
  },
  {
    flag: 'cpus',
    key: 'limits.cpus',
    kind: 'string',
    group: G_RES,
    description: 'CPUs available to the container (0.01 .. number of CPUs)',
  },
  {
    flag: 'cpu-shares',
    key: 'limits.cpuShares',
    kind: 'number',
    group: G_RES,
    description: 'relative CPU weight',
  },
  {
    flag: 'cpuset-cpus',
    key: 'limits.cpusetCpus',
    kind: 'string',
    group: G_RES,
    description: 'host CPUs to use (0-2,4)',
  },
  {
    flag: 'cpuset-mems',
    key: 'limits.cpusetMems',
    kind: 'string',
    group: G_RES,
    description: 'host memory nodes to use',
  },
  {
    flag: 'memory',
    key: 'limits.memory',
    kind: 'string',
    group: G_RES,
    description: 'memory limit (bytes, or 512M, 2G)',
  },
  {
    flag: 'memory-reservation',
    key: 'limits.memoryReservation',
    kind: 'string',
    group: G_RES,
    description: 'memory soft limit',
  },
  {
    flag: 'memory-swap',
    key: 'limits.memorySwap',
    kind: 'string',
    group: G_RES,
    description: 'memory + swap limit; -1 for unlimited swap',
  },
  {
    flag: 'oom-kill-disable',
    key: 'limits.oomKillDisable',
    kind: 'boolean',
    group: G_RES,
    description: 'disable the OOM killer',
  },
  {
    flag: 'pids-limit',
    key: 'limits.pidsLimit',
    kind: 'number',
    group: G_RES,
    description: 'maximum number of processes; -1 for unlimited',
  },
  {
    flag: 'blkio-weight',
    key: 'limits.blkioWeight',
    kind: 'number',
    group: G_RES,
    description: 'block IO weight, 10..1000',
  },
  {
    flag: 'blkio-weight-device',
    key: 'limits.blkioWeightDevice',
    kind: 'list',
    group: G_RES,
    description: 'DEVICE:WEIGHT block IO weight of one device, repeatable',
  },
  {
    flag: 'apply-cgroups',
    key: 'applyCgroups',
    kind: 'string',
    group: G_RES,
    description: 'limits from a TOML file of OCI LinuxResources ([memory] limit = 1073741824)',
  },
  {
    flag: 'runtime',
    key: 'runtime',
    kind: 'string',
    group: BERTH_GROUP,
    description:
      'OCI runtime: crun, runc or a path (default: $BERTH_RUNTIME, then crun, then runc)',
    envNames: [],
  },
  {
    flag: 'site-config',
    key: 'siteConfig',
    kind: 'string',
    group: BERTH_GROUP,
    description: 'root only: the site configuration file (default: /etc/berth/berth.conf)',
    envNames: [],
  },
  ...IMAGE_SPECS,
  { flag: 'contain', short: ['c'], key: 'contain', kind: 'boolean', ...refused(1, 'Contain') },
  {
    flag: 'containall',
    short: ['C'],
    key: 'containAll',
    kind: 'boolean',
    ...refused(2, 'ContainAll'),
  },
  { flag: 'boot', key: 'boot', kind: 'boolean', ...refused(4, 'Boot') },
  {
    flag: 'no-init',
    key: 'noInit',
    kind: 'boolean',
    envNames: ['NOSHIMINIT'],
    ...refused(5, 'NoInit'),
  },
  {
    flag: 'fusemount',
    key: 'fusemount',
    kind: 'list',
    envNames: ['FUSESPEC'],
    ...refused(6, 'FuseMount'),
  },
  { flag: 'nvccli', key: 'nvccli', kind: 'boolean', ...refused(7, 'NvCCLI') },
  { flag: 'network-args', key: 'networkArgs', kind: 'list', ...refused(8, 'NetworkArgs') },
  { flag: 'netns-path', key: 'netnsPath', kind: 'string', ...refused(9, 'NetnsPath') },
  { flag: 'security', key: 'security', kind: 'list', ...refused(10, 'SecurityOpts') },
  {
    flag: 'shell',
    short: ['s'],
    key: 'shell',
    kind: 'string',
    // not SINGULARITY_SHELL: people set it for upstream's `shell`, and berth refuses the flag
    envNames: [],
    ...refused(11, 'ShellPath'),
  },
  {
    flag: 'pem-path',
    key: 'keyInfo',
    kind: 'present',
    envNames: ['ENCRYPTION_PEM_PATH'],
    ...refused(12, 'KeyInfo'),
  },
  {
    flag: 'passphrase',
    key: 'keyInfo',
    kind: 'boolean',
    envNames: ['ENCRYPTION_PASSPHRASE'],
    envPresence: true,
    ...refused(13, 'KeyInfo'),
  },
  { flag: 'sif-fuse', key: 'sifFuse', kind: 'boolean', ...refused(14, 'SIFFUSE') },
];

function schemaOf(key: OptionKey): v.GenericSchema {
  const entries: Record<string, v.GenericSchema> = key.startsWith('limits.')
    ? CgroupLimitsSchema.entries
    : LaunchOptionsSchema.entries;
  const schema = entries[key.replace(/^limits\./, '')];
  if (!schema) throw new Error(`option table: no schema for ${key}`);
  return schema;
}

const rows = (specs: OptionSpec[]): readonly OptionRow[] =>
  Object.freeze(specs.map((s) => Object.freeze({ ...s, schema: schemaOf(s.key) })));

/** Every flag of run/exec/shell that sets a `launch()` option, in `--help` order. */
export const LAUNCH_OPTION_TABLE: readonly OptionRow[] = rows(LAUNCH_SPECS);

/** The image options, shared by run/exec/shell and pull (`ImageOptionsSchema`). */
export const IMAGE_OPTION_TABLE: readonly OptionRow[] = LAUNCH_OPTION_TABLE.filter(
  (r) => r.group === G_IMAGE,
);

/** The refused flags (`--contain`, ...), in the order `--help` lists them. */
export const REFUSED_FLAGS: readonly string[] = LAUNCH_OPTION_TABLE.filter(
  (r) => r.refusedRank !== undefined,
)
  .sort((a, b) => (a.refusedRank ?? 0) - (b.refusedRank ?? 0))
  .map((r) => `--${r.flag}`);

/**
 * The environment variables that may set a flag, highest priority first: `BERTH_<FLAG>`
 * (upper case, `-` → `_`), then `APPTAINER_<NAME>` and `SINGULARITY_<NAME>` for each of
 * upstream's names (`envNames`, else the flag's own).
 */
export function optionEnvKeys(spec: Pick<FlagSpec, 'flag' | 'envNames'>): string[] {
  const own = spec.flag.toUpperCase().replace(/-/g, '_');
  const upstream = spec.envNames ?? [own];
  return [
    `BERTH_${own}`,
    ...upstream.map((n) => `APPTAINER_${n}`),
    ...upstream.map((n) => `SINGULARITY_${n}`),
  ];
}
