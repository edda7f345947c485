import * as v from 'valibot';
import { AbortSignalSchema, StdioSchema } from './io-options.js';
import { SiteConfigOptionSchema } from './site-config.js';

/** `NAME=value`; a name holding whitespace is refused, as podman does (no shell could use it). */
const EnvPair = v.pipe(
  v.string(),
  v.regex(/^[^=\0]+=/, 'entries must look like NAME=value'),
  v.regex(/^[^=\s]+=/, 'names must not contain whitespace'),
);

const Strings = v.optional(v.array(v.string()), []);
const Flag = v.optional(v.boolean(), false);
/** A non-empty string; its message completes a flag or key name (`--workdir must not be empty`). */
const Text = v.pipe(v.string(), v.nonEmpty('must not be empty'));
const Integer = v.pipe(v.number('needs a number'), v.integer('needs a whole number'));
const Size = v.union([Integer, Text]);

/**
 * `v.strictObject` whose unknown keys are reported as `unknown option "name"`. The messages of
 * these schemas complete the name of the option (`cwd must be an absolute path`), so that the
 * CLI can put its flag in front of them.
 */
export const strictOptions = <E extends v.ObjectEntries>(entries: E) =>
  v.strictObject(entries, (issue) =>
    issue.expected === 'never'
      ? `unknown option ${issue.received}`
      : `expected an object of options, got ${issue.received}`,
  );

/**
 * cgroup limits, as upstream's limit flags (docs/singularity-compat.md). Sizes take docker
 * units (`500M`, `1g`) or a number of bytes.
 */
export const CgroupLimitsSchema = strictOptions({
  /** `--cpus`: CPUs available (0.01 .. number of CPUs): cpu.quota over a 100 ms period. */
  cpus: v.optional(v.union([v.number('needs a number'), Text])),
  /** `--cpu-shares`: relative CPU weight, 2..262144 (1 counts as 2); -1 or 0 leave it unset. */
  cpuShares: v.optional(Integer),
  /** `--cpuset-cpus`: host CPUs the container may use (`0-2,4`). */
  cpusetCpus: v.optional(Text),
  /** `--cpuset-mems`: host memory nodes the container may use. */
  cpusetMems: v.optional(Text),
  /** `--memory`: memory limit. */
  memory: v.optional(Size),
  /** `--memory-reservation`: memory soft limit. */
  memoryReservation: v.optional(Size),
  /** `--memory-swap`: memory + swap limit; -1 for unlimited swap. */
  memorySwap: v.optional(Size),
  /** `--oom-kill-disable`. */
  oomKillDisable: v.optional(v.boolean()),
  /** `--pids-limit`: maximum number of processes; -1 for unlimited, 0 for unset. */
  pidsLimit: v.optional(Integer),
  /** `--blkio-weight`: block IO weight, 10..1000 (0 for unset). */
  blkioWeight: v.optional(Integer),
  /** `--blkio-weight-device`: `DEVICE:WEIGHT` entries. */
  blkioWeightDevice: v.optional(v.array(v.string())),
});
export type CgroupLimits = v.InferInput<typeof CgroupLimitsSchema>;

const Callback = <T>() => v.optional(v.custom<T>((f) => typeof f === 'function'));

/** The image options shared by `launch()` and `pull()`: transport, platform, credentials, cache. */
export const ImageOptionsSchema = strictOptions({
  /** Image reference: `docker://...`, `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE`, or a path. */
  image: v.pipe(v.string(), v.nonEmpty('an image reference is required')),
  /** `--platform OS/ARCH[/VARIANT]` to pick from a multi-platform image (default: this host's). */
  platform: v.optional(Text),
  /** `--authfile`: registry credentials (containers-auth.json or Docker config.json format). */
  authFile: v.optional(Text),
  /** `--docker-username`/`--docker-password` (else DOCKER_USERNAME/DOCKER_PASSWORD, else the auth files). */
  dockerUsername: v.optional(v.string()),
  dockerPassword: v.optional(v.string()),
  /** `--no-https`: plain HTTP to the registry. */
  noHttps: v.optional(v.boolean(), false),
  /** `--disable-cache`: fetch and unpack into a temporary directory, removed afterwards. */
  disableCache: v.optional(v.boolean(), false),
  /** Image cache directory (default `$BERTH_CACHEDIR`, `$XDG_CACHE_HOME/berth`, `~/.cache/berth`). */
  cacheDir: v.optional(v.string()),
});

/** Options of `launch()`: one schema, shared by the CLI and library users. */
export const LaunchOptionsSchema = strictOptions({
  ...ImageOptionsSchema.entries,
  /** `run` (entrypoint + args), `exec` (args[0] is the program), `shell` (an interactive shell). */
  action: v.optional(v.picklist(['run', 'exec', 'shell']), 'run'),
  /** Arguments after the image. */
  args: Strings,
  /** `--bind` values: `src[:dst[:ro|rw]]`, each possibly a comma-separated list. */
  binds: Strings,
  /** `--mount` values: `type=bind,src=...,dst=...[,ro]` (CSV, one mount per line). */
  mounts: Strings,
  /** Run as uid 0 inside the container (`--fakeroot`). */
  fakeroot: Flag,
  /** `--env` entries, `NAME=value`, applied last (highest priority). */
  env: v.optional(v.array(EnvPair), []),
  /** `--env-file` paths, evaluated in order (later files win; `--env` wins over all). */
  envFiles: Strings,
  /**
   * `--cleanenv`: pass no host variables but TERM and the proxies: not the scheduler's and
   * MPI's (job-env.ts), and with `noCompat` no others.
   */
  cleanEnv: Flag,
  /** Working directory inside the container (`--cwd`/`--pwd`). */
  cwd: v.optional(v.pipe(v.string(), v.startsWith('/', 'must be an absolute path'))),
  /** `--home DST` (a tmpfs home there) or `--home SRC:DST` (the host SRC bound there). */
  home: v.optional(v.string()),
  /** `--no-home`: no home mount (HOME is still set). */
  noHome: Flag,
  /** `--workdir`: a host directory backing /tmp, /var/tmp and the scratch directories. */
  workdir: v.optional(Text),
  /** `--scratch`: container directories that get a fresh empty directory. */
  scratch: Strings,
  /** `--no-mount`: default mounts to leave out (proc, sys, tmp, home, cwd, bind-paths, /PATH). */
  noMount: Strings,
  /**
   * `--no-compat`: SingularityCE's native defaults: read-only root, host /tmp, /var/tmp, home
   * and cwd bound, the host's /dev (crun), umask and environment.
   */
  noCompat: Flag,
  /** `--compat`: refused, as upstream in OCI mode (it implies --containall and --no-init). */
  compat: Flag,
  /** `--no-umask`: with `noCompat`, do not pass the host umask. */
  noUmask: Flag,
  /** `--writable-tmpfs`: a writable root with `noCompat` (the default otherwise). */
  writableTmpfs: Flag,
  /** `--writable`: refused: berth's images have no writable overlay of their own. */
  writable: Flag,
  /** `--overlay DIR[:ro]`: directory overlays, the first on top; at most one writable. */
  overlays: Strings,
  /** `--no-setgroups`: keep the supplementary groups (crun only). */
  noSetgroups: Flag,
  /** `--net`: a new network namespace; only with `network: 'none'` (loopback only). */
  net: Flag,
  /** `--network` (default `bridge`, as upstream: `--net` alone is refused). */
  network: v.optional(v.string(), 'bridge'),
  /** `--network-args`: refused. */
  networkArgs: Strings,
  /** `--hostname`: the container's host name (implies `uts`). */
  hostname: v.optional(Text),
  /** `--uts`: a new UTS namespace. */
  uts: Flag,
  /** `--dns`: comma-separated nameserver IPs written to the container's resolv.conf. */
  dns: v.optional(v.string()),
  /** `--no-pid`: no PID namespace; /proc is the host's. */
  noPid: Flag,
  /** `--pid`, `--ipc`: redundant (always on), as upstream: an informational message. */
  pid: Flag,
  ipc: Flag,
  /** `--userns`: as root, a user namespace without id mappings; redundant otherwise. */
  userns: Flag,
  /** `--add-caps`, `--drop-caps`: capability names (comma lists, `CAP_` optional, `ALL`). */
  addCaps: Strings,
  dropCaps: Strings,
  /** `--keep-privs`: start from the caller's capabilities (all of them, as root or in the namespace). */
  keepPrivs: Flag,
  /** `--no-privs`: no capabilities and no_new_privs. */
  noPrivs: Flag,
  /** `--allow-setuid`: leave nosuid off binds, home, workdir, scratch and the overlay tmpfs. */
  allowSetuid: Flag,
  /** `--device`: CDI devices `vendor/class=name` (comma lists allowed). */
  devices: Strings,
  /** `--cdi-dirs`: CDI spec directories (default /etc/cdi, /var/run/cdi). */
  cdiDirs: Strings,
  /** cgroup limit flags. */
  limits: v.optional(CgroupLimitsSchema),
  /** `--apply-cgroups FILE`: limits from a TOML file (OCI LinuxResources keys). */
  applyCgroups: v.optional(Text),
  /** Options upstream's OCI launcher refuses (`not supported by OCI launcher: ...`). */
  contain: Flag,
  containAll: Flag,
  boot: Flag,
  noInit: Flag,
  fusemount: Strings,
  nvccli: Flag,
  netnsPath: v.optional(v.string()),
  security: Strings,
  shell: v.optional(v.string()),
  keyInfo: Flag,
  sifFuse: Flag,
  /**
   * The site configuration (default: /etc/berth/berth.conf, `SITE_CONFIG_PATH`): another file,
   * which only root may give (`--site-config`), or a parsed configuration (`SiteConfigSchema`).
   */
  siteConfig: v.optional(SiteConfigOptionSchema),
  /** `crun`, `runc` or a path; default `$BERTH_RUNTIME`, then crun, then runc. */
  runtime: v.optional(v.string()),
  /** Host environment the launch reads (`BERTHENV_*`, TERM, proxies); default `process.env`. */
  hostEnv: v.optional(v.record(v.string(), v.optional(v.string()))),
  /** Allocate a terminal; default: whether stdin is a TTY. */
  terminal: v.optional(v.boolean()),
  /** Diagnostics for the user (fallbacks, skipped entries); the CLI prints them. */
  onWarning: Callback<(message: string) => void>(),
  /** Informational messages (redundant flags), as upstream's INFO lines. */
  onInfo: Callback<(message: string) => void>(),
  /** Progress of long work (unpacking). */
  onProgress: Callback<(event: LaunchProgress) => void>(),
  /** Library only: aborts the preparation (ERR_LAUNCH_INTERRUPTED), or stops the container. */
  signal: v.optional(AbortSignalSchema),
  /**
   * Library only: the container's stdio: 'inherit' (default), 'ignore', or [stdin, stdout,
   * stderr], each 'inherit', 'ignore', a file descriptor or a stream with an `fd`.
   */
  stdio: v.optional(StdioSchema),
});

export type LaunchOptions = v.InferInput<typeof LaunchOptionsSchema>;
export type ResolvedLaunchOptions = v.InferOutput<typeof LaunchOptionsSchema>;

/**
 * Progress events of a launch: `download` (docker:// layers; repeated while bytes arrive, then
 * once with `done`; `cached` when the blob cache had it), then, only when the rootfs is not
 * cached yet, `unpack-start`, `unpack-layer` (repeated; `done` at the end of each layer) and
 * `unpack-done`.
 */
export type LaunchProgress =
  | {
      phase: 'download';
      image: string;
      layer: number;
      layers: number;
      digest: string;
      bytes: number;
      size: number;
      done: boolean;
      cached: boolean;
    }
  | { phase: 'unpack-start'; image: string; layers: number }
  | {
      phase: 'unpack-layer';
      layer: number;
      layers: number;
      digest: string;
      /** Compressed bytes of the layer read so far, of `size`. */
      bytes?: number;
      size?: number;
      /** Entries unpacked so far (all layers). */
      entries?: number;
      done?: boolean;
    }
  | { phase: 'unpack-done'; image: string; entries?: number };
