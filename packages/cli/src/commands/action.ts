import { BerthError } from '@berth-oci/errors';
import {
  type CgroupLimits,
  dryRun,
  type LaunchOptions,
  type LaunchProgress,
  launch,
} from '@berth-oci/launcher';
import type { Argv, CommandModule } from 'yargs';
import { createProgress } from '../progress.js';
import { type Io, warn } from '../render.js';
import { IMAGE_OPTIONS, IMAGE_REFERENCE_HELP, imageOptions } from './image-options.js';

export interface ActionArgs {
  image: string;
  args?: string[];
  '--'?: string[];
  [option: string]: unknown;
}

/** Splits repeatable, comma-separated `--env` values into entries (a comma inside a value stays with it when no `=` follows). */
export function splitEnv(values: string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      if (out.length > 0 && !/^[^=]+=/.test(part)) out[out.length - 1] += `,${part}`;
      else out.push(part);
    }
  }
  return out;
}

const G_MOUNTS = 'Mounts and directories:';
const G_ENV = 'Environment:';
const G_ID = 'Identity and privileges:';
const G_NS = 'Namespaces and network:';
const G_RES = 'Devices and cgroup limits:';
const G_BERTH = 'berth:';

/**
 * The options of run/exec/shell, with SingularityCE's names, short forms and meanings.
 * `string`/`number` options take a value; `boolean` ones are flags. Hidden ones are refused as
 * upstream refuses them in OCI mode.
 */
export const ACTION_OPTIONS = {
  bind: {
    alias: 'B',
    type: 'string',
    group: G_MOUNTS,
    description: 'bind a host path: src[:dst[:ro|rw]], repeatable or comma-separated',
  },
  mount: {
    type: 'string',
    group: G_MOUNTS,
    description: 'bind a host path: type=bind,src=HOST,dst=CONTAINER[,ro], repeatable',
  },
  home: {
    alias: 'H',
    type: 'string',
    group: G_MOUNTS,
    description:
      'home directory: DST (a tmpfs there) or SRC:DST (the host SRC bound there); default: a tmpfs at your home path',
  },
  'no-home': { type: 'boolean', group: G_MOUNTS, description: 'do not mount a home directory' },
  workdir: {
    alias: 'W',
    type: 'string',
    group: G_MOUNTS,
    description: 'host directory for /tmp, /var/tmp and --scratch (its tmp, var_tmp, scratch)',
  },
  scratch: {
    alias: 'S',
    type: 'string',
    group: G_MOUNTS,
    description: 'an empty scratch directory at this container path, repeatable',
  },
  cwd: {
    alias: 'pwd',
    type: 'string',
    group: G_MOUNTS,
    description:
      "initial working directory inside the container (default: the image's WorkingDir, else home)",
  },
  'no-mount': {
    type: 'string',
    group: G_MOUNTS,
    description:
      'leave out default mounts: proc, sys, tmp, home, cwd, bind-paths, /etc/resolv.conf (comma-separated)',
  },
  'writable-tmpfs': {
    type: 'boolean',
    group: G_MOUNTS,
    description: 'a writable root in a tmpfs overlay (the default; needed with --no-compat)',
  },
  overlay: {
    alias: 'o',
    type: 'string',
    group: G_MOUNTS,
    description:
      'DIR[:ro]: a directory overlay on the root, repeatable (first on top, one writable)',
  },
  writable: {
    alias: 'w',
    type: 'boolean',
    group: G_MOUNTS,
    description: "make the image's own overlay writable (images berth runs have none)",
  },
  'no-compat': {
    type: 'boolean',
    group: G_MOUNTS,
    description:
      "SingularityCE's native defaults: read-only root; host /tmp, /var/tmp, home, cwd, /dev (crun), umask and environment",
  },
  compat: {
    type: 'boolean',
    group: G_MOUNTS,
    description: 'refused: in OCI mode it implies --containall and --no-init',
  },
  'no-umask': {
    type: 'boolean',
    group: G_MOUNTS,
    description: 'with --no-compat, do not pass your umask (the container gets 0022)',
  },
  env: {
    type: 'string',
    group: G_ENV,
    description: 'set container variables: NAME=value[,NAME=value...], repeatable',
  },
  'env-file': {
    type: 'string',
    group: G_ENV,
    description: 'set container variables from a file of NAME=value lines, repeatable',
  },
  cleanenv: {
    alias: 'e',
    type: 'boolean',
    group: G_ENV,
    description: 'with --no-compat, pass no host variables but TERM and the proxies',
  },
  fakeroot: {
    alias: 'f',
    type: 'boolean',
    group: G_ID,
    description: 'run as root (uid 0) inside the container, mapped to you outside',
  },
  'no-setgroups': {
    type: 'boolean',
    group: G_ID,
    description: 'keep your supplementary groups in the container (crun only)',
  },
  userns: {
    alias: 'u',
    type: 'boolean',
    group: G_ID,
    description: 'as root, run in a new user namespace (always the case as a user)',
  },
  'keep-privs': {
    type: 'boolean',
    group: G_ID,
    description: 'start from all your capabilities instead of the default set',
  },
  'no-privs': {
    type: 'boolean',
    group: G_ID,
    description: 'drop all capabilities and set no_new_privs',
  },
  'add-caps': {
    type: 'string',
    group: G_ID,
    description: 'capabilities to add: CAP_NET_ADMIN,sys_ptrace,... (ALL for every one)',
  },
  'drop-caps': {
    type: 'string',
    group: G_ID,
    description: 'capabilities to drop (comma-separated, ALL for every one)',
  },
  'allow-setuid': {
    type: 'boolean',
    group: G_ID,
    description: 'allow setuid binaries in binds, home, workdir, scratch and the overlay tmpfs',
  },
  net: {
    alias: 'n',
    type: 'boolean',
    group: G_NS,
    description: 'a new network namespace; only with --network none (loopback only)',
  },
  network: {
    type: 'string',
    group: G_NS,
    description: 'network type with --net: only none is supported (default: bridge, refused)',
  },
  'network-args': { type: 'string', group: G_NS, hidden: true, description: 'refused' },
  hostname: {
    type: 'string',
    group: G_NS,
    description: 'the container host name (implies --uts)',
  },
  uts: { type: 'boolean', group: G_NS, description: 'a new UTS namespace' },
  dns: {
    type: 'string',
    group: G_NS,
    description: "nameserver IPs for the container's /etc/resolv.conf (comma-separated)",
  },
  'no-pid': {
    type: 'boolean',
    group: G_NS,
    description: "no PID namespace: the host's processes and /proc",
  },
  pid: { alias: 'p', type: 'boolean', group: G_NS, description: 'redundant: always on' },
  ipc: { alias: 'i', type: 'boolean', group: G_NS, description: 'redundant: always on' },
  device: {
    type: 'string',
    group: G_RES,
    description: 'a CDI device: vendor.com/class=name, repeatable or comma-separated',
  },
  'cdi-dirs': {
    type: 'string',
    group: G_RES,
    description: 'directories of CDI specs (default: /etc/cdi, /var/run/cdi)',
  },
  cpus: {
    type: 'string',
    group: G_RES,
    description: 'CPUs available to the container (0.01 .. number of CPUs)',
  },
  'cpu-shares': { type: 'number', group: G_RES, description: 'relative CPU weight' },
  'cpuset-cpus': { type: 'string', group: G_RES, description: 'host CPUs to use (0-2,4)' },
  'cpuset-mems': { type: 'string', group: G_RES, description: 'host memory nodes to use' },
  memory: { type: 'string', group: G_RES, description: 'memory limit (bytes, or 512M, 2G)' },
  'memory-reservation': { type: 'string', group: G_RES, description: 'memory soft limit' },
  'memory-swap': {
    type: 'string',
    group: G_RES,
    description: 'memory + swap limit; -1 for unlimited swap',
  },
  'oom-kill-disable': { type: 'boolean', group: G_RES, description: 'disable the OOM killer' },
  'pids-limit': {
    type: 'number',
    group: G_RES,
    description: 'maximum number of processes; -1 for unlimited',
  },
  'blkio-weight': { type: 'number', group: G_RES, description: 'block IO weight, 10..1000' },
  'blkio-weight-device': {
    type: 'string',
    group: G_RES,
    description: 'DEVICE:WEIGHT block IO weight of one device, repeatable',
  },
  'apply-cgroups': {
    type: 'string',
    group: G_RES,
    description: 'limits from a TOML file of OCI LinuxResources ([memory] limit = 1073741824)',
  },
  runtime: {
    type: 'string',
    group: G_BERTH,
    description:
      'OCI runtime: crun, runc or a path (default: $BERTH_RUNTIME, then crun, then runc)',
  },
  'dry-run': {
    type: 'boolean',
    group: G_BERTH,
    description: 'print the config.json berth would run, and exit without running it',
  },
  quiet: {
    alias: 'q',
    type: 'boolean',
    group: G_BERTH,
    description: 'print no warnings or progress',
  },
  ...IMAGE_OPTIONS,
  // refused, as SingularityCE refuses them in OCI mode
  contain: { alias: 'c', type: 'boolean', hidden: true, description: 'refused' },
  containall: { alias: 'C', type: 'boolean', hidden: true, description: 'refused' },
  boot: { type: 'boolean', hidden: true, description: 'refused' },
  'no-init': { type: 'boolean', hidden: true, description: 'refused' },
  fusemount: { type: 'string', hidden: true, description: 'refused' },
  nvccli: { type: 'boolean', hidden: true, description: 'refused' },
  'netns-path': { type: 'string', hidden: true, description: 'refused' },
  security: { type: 'string', hidden: true, description: 'refused' },
  shell: { alias: 's', type: 'string', hidden: true, description: 'refused' },
  'pem-path': { type: 'string', hidden: true, description: 'refused' },
  passphrase: { type: 'boolean', hidden: true, description: 'refused' },
  'sif-fuse': { type: 'boolean', hidden: true, description: 'refused' },
} as const;

/** Flags SingularityCE refuses in OCI mode; berth accepts them only to refuse them the same way. */
export const REFUSED_FLAGS = [
  '--contain',
  '--containall',
  '--compat',
  '--boot',
  '--no-init',
  '--fusemount',
  '--nvccli',
  '--network-args',
  '--netns-path',
  '--security',
  '--shell',
  '--pem-path',
  '--passphrase',
  '--sif-fuse',
];

const VALUE_FLAGS = new Set<string>();
for (const [name, o] of Object.entries(ACTION_OPTIONS)) {
  if (o.type === 'boolean') continue;
  VALUE_FLAGS.add(name.length === 1 ? `-${name}` : `--${name}`);
  if ('alias' in o) VALUE_FLAGS.add(o.alias.length === 1 ? `-${o.alias}` : `--${o.alias}`);
}

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
      if (VALUE_FLAGS.has(last)) i++;
      continue;
    }
    return [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)];
  }
  return argv;
}

function asArray(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

const str = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : String(Array.isArray(v) ? v.at(-1) : v);
const num = (v: unknown): number | undefined => {
  if (v === undefined || v === null) return undefined;
  const n = Number(Array.isArray(v) ? v.at(-1) : v);
  return n;
};
const bool = (v: unknown): boolean => v === true;
/** Comma-separated values of a repeatable option, flattened. */
const list = (v: unknown): string[] =>
  asArray(v)
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean);

/** The launcher options of a parsed run/exec/shell command line. */
export function launchOptions(
  action: 'run' | 'exec' | 'shell',
  argv: ActionArgs,
  io: Io,
): LaunchOptions {
  const quiet = argv.quiet === true;
  const limits: CgroupLimits = {
    cpus: str(argv.cpus),
    cpuShares: num(argv['cpu-shares']),
    cpusetCpus: str(argv['cpuset-cpus']),
    cpusetMems: str(argv['cpuset-mems']),
    memory: str(argv.memory),
    memoryReservation: str(argv['memory-reservation']),
    memorySwap: str(argv['memory-swap']),
    oomKillDisable: argv['oom-kill-disable'] === true ? true : undefined,
    pidsLimit: num(argv['pids-limit']),
    blkioWeight: num(argv['blkio-weight']),
    blkioWeightDevice: asArray(argv['blkio-weight-device']),
  };
  for (const [k, v] of Object.entries(limits)) {
    if (v === undefined) delete limits[k as keyof CgroupLimits];
    if (typeof v === 'number' && Number.isNaN(v)) {
      const flag = `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new BerthError('ERR_CLI_USAGE', `${flag} needs a number`, {
        hint: 'see berth exec --help',
      });
    }
  }
  if (limits.blkioWeightDevice?.length === 0) delete limits.blkioWeightDevice;
  return {
    image: argv.image,
    action,
    args: [...(argv.args ?? []), ...(argv['--'] ?? [])].map(String),
    binds: asArray(argv.bind),
    mounts: asArray(argv.mount),
    fakeroot: bool(argv.fakeroot),
    env: splitEnv(asArray(argv.env)),
    envFiles: asArray(argv['env-file']),
    cleanEnv: bool(argv.cleanenv),
    cwd: str(argv.cwd),
    home: str(argv.home),
    noHome: bool(argv['no-home']),
    workdir: str(argv.workdir),
    scratch: list(argv.scratch),
    noMount: list(argv['no-mount']),
    noCompat: bool(argv['no-compat']),
    compat: bool(argv.compat),
    noUmask: bool(argv['no-umask']),
    writableTmpfs: bool(argv['writable-tmpfs']),
    writable: bool(argv.writable),
    overlays: asArray(argv.overlay),
    noSetgroups: bool(argv['no-setgroups']),
    net: bool(argv.net),
    network: str(argv.network),
    networkArgs: asArray(argv['network-args']),
    hostname: str(argv.hostname),
    uts: bool(argv.uts),
    dns: str(argv.dns),
    noPid: bool(argv['no-pid']),
    pid: bool(argv.pid),
    ipc: bool(argv.ipc),
    userns: bool(argv.userns),
    addCaps: asArray(argv['add-caps']),
    dropCaps: asArray(argv['drop-caps']),
    keepPrivs: bool(argv['keep-privs']),
    noPrivs: bool(argv['no-privs']),
    allowSetuid: bool(argv['allow-setuid']),
    devices: list(argv.device),
    cdiDirs: list(argv['cdi-dirs']),
    limits: Object.keys(limits).length > 0 ? limits : undefined,
    applyCgroups: str(argv['apply-cgroups']),
    contain: bool(argv.contain),
    containAll: bool(argv.containall),
    boot: bool(argv.boot),
    noInit: bool(argv['no-init']),
    fusemount: asArray(argv.fusemount),
    nvccli: bool(argv.nvccli),
    netnsPath: str(argv['netns-path']),
    security: asArray(argv.security),
    shell: str(argv.shell),
    keyInfo: argv['pem-path'] !== undefined || bool(argv.passphrase),
    sifFuse: bool(argv['sif-fuse']),
    runtime: str(argv.runtime),
    ...imageOptions(argv),
    hostEnv: io.env,
    onWarning: quiet ? undefined : (m) => warn(io, m),
    onInfo: quiet ? undefined : (m) => io.stderr.write(`berth: info: ${m}\n`),
  };
}

function actionOptions(y: Argv): Argv<ActionArgs> {
  return y.options(ACTION_OPTIONS as never).parserConfiguration({
    'populate--': true,
    'boolean-negation': false,
  }) as unknown as Argv<ActionArgs>;
}

/** Download and unpack progress: bars on a terminal, one line per layer otherwise. */
function progressPrinter(io: Io, quiet: boolean): ((e: LaunchProgress) => void) | undefined {
  return createProgress(io, { quiet }).onProgress;
}

/** Builds one of run/exec/shell; `setExit` receives the container's status. */
export function actionCommand(
  action: 'run' | 'exec' | 'shell',
  io: Io,
  setExit: (code: number) => void,
): CommandModule<object, ActionArgs> {
  const usage = {
    run: 'run [options] IMAGE [ARGS...]',
    exec: 'exec [options] IMAGE COMMAND [ARGS...]',
    shell: 'shell [options] IMAGE',
  }[action];
  const describe = {
    run: "run the image's default command (Entrypoint + Cmd, ARGS replacing Cmd)",
    exec: 'run a command in a container of the image',
    shell: 'start an interactive shell in a container of the image',
  }[action];
  return {
    command: usage
      .replace('[options] ', '')
      .replace('IMAGE', '<image>')
      .replace(/COMMAND \[ARGS\.\.\.\]|\[ARGS\.\.\.\]/, '[args..]'),
    describe,
    builder: (y) =>
      actionOptions(y)
        .positional('image', {
          type: 'string',
          description: IMAGE_REFERENCE_HELP,
        })
        .usage(`berth ${usage}\n\n${describe}`)
        .example(
          action === 'exec'
            ? [[`berth exec oci:./layout:latest id -u`, 'print your uid inside the container']]
            : action === 'run'
              ? [
                  [
                    `berth run -B /data:/data oci:./layout:latest`,
                    'run the default command with /data bound',
                  ],
                ]
              : [
                  [
                    `berth shell --fakeroot oci:./layout:latest`,
                    'a shell as root inside the container',
                  ],
                ],
        )
        .epilog(
          [
            "Exit status: the container's, or 128+signal when a signal ended it; 255 when berth itself fails.",
            `Refused as SingularityCE refuses them in OCI mode: ${REFUSED_FLAGS.join(', ')}.`,
            'Cgroup limits need root (rootless cgroups need cgroups v2 with delegation).',
          ].join('\n'),
        ) as Argv<ActionArgs>,
    handler: async (argv) => {
      setExit(await runAction(action, argv, io));
    },
  };
}

/**
 * Runs one of run/exec/shell from parsed arguments (from yargs, or from the fast path of
 * `parseActionArgv`) and returns the exit status; berth's own errors are thrown.
 */
export async function runAction(
  action: 'run' | 'exec' | 'shell',
  argv: ActionArgs,
  io: Io,
): Promise<number> {
  const quiet = argv.quiet === true;
  const options = launchOptions(action, argv, io);
  if (argv['dry-run'] === true) {
    const spec = await dryRun(options);
    io.stdout.write(`${JSON.stringify(spec, null, 2)}\n`);
    return 0;
  }
  const status = await launch({
    ...options,
    onProgress: progressPrinter(io, quiet),
  });
  return status.exitCode;
}
