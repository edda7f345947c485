import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildProcess,
  capabilitySet,
  type LinuxResources,
  type Mount,
  minimalSpec,
  normalizeCapabilities,
  type Spec,
  writeSpec,
} from '@berth-oci/bundle-spec';
import { parseOptions } from '@berth-oci/errors';
import { imageDefaults, type resolveImage } from '@berth-oci/image-extract';
import {
  type BindSpec,
  bindMounts,
  checkBindSource,
  defaultMounts,
  parseBindSpecs,
  parseHomeSpec,
  parseMountSpecs,
  parseNoMount,
  parseScratchDirs,
  workdirDirectories,
} from '@berth-oci/mounts';
import {
  cgroupLayout,
  type ExitStatus,
  findRuntime,
  needsCgroupMask,
  type Runtime,
  runContainer,
  runtimeStateRoot,
} from '@berth-oci/runtime-ops';
import { DEFAULT_CDI_DIRS, injectCdiDevices } from './cdi.js';
import { cgroupResources, checkCgroupSupport } from './cgroups.js';
import { checkOptions, resolvConfFromDns } from './check-options.js';
import { buildEnv } from './env.js';
import { readEnvFile } from './env-file.js';
import { LaunchError } from './errors.js';
import { findPasswdUser, generateGroup, generatePasswd, readImageFile } from './etc-files.js';
import { type HostUser, hostUser, planUserns, type UsernsPlan } from './identity.js';
import { effectiveCapabilities, resolveInImage } from './image-path.js';
import { namespaceWrapper } from './namespace.js';
import { type LaunchOptions, LaunchOptionsSchema, type ResolvedLaunchOptions } from './options.js';
import {
  OVERLAY_UNSAFE,
  type OverlayPlan,
  planOverlays,
  prepareWritableOverlay,
} from './overlay.js';
import { ensureRootfs, openImage } from './rootfs.js';

/** The command `shell` runs (as upstream, with berth's prompt). */
export const SHELL_ARGS = [
  '/bin/sh',
  '-c',
  "export PS1='Berth> '; test -x /bin/bash && exec /bin/bash --norc || exec /bin/sh",
];

/** The process arguments for an action (reference B.5.4). */
export function processArgs(
  action: ResolvedLaunchOptions['action'],
  args: string[],
  defaults: { entrypoint: readonly string[]; cmd: readonly string[] },
  image: string,
): string[] {
  let out: string[];
  if (action === 'shell') out = [...SHELL_ARGS];
  else if (action === 'exec') {
    if (args.length === 0) {
      throw new LaunchError('ERR_LAUNCH_ARGS', 'exec needs a command to run', {
        hint: `berth exec ${image} COMMAND [ARGS...]`,
      });
    }
    out = args;
  } else out = [...defaults.entrypoint, ...(args.length > 0 ? args : defaults.cmd)];
  if (out.length === 0) {
    throw new LaunchError('ERR_LAUNCH_ARGS', `image "${image}" has no Entrypoint or Cmd to run`, {
      hint: `give a command: berth exec ${image} COMMAND`,
    });
  }
  return out;
}

const isRootUser = (u: string | undefined) => u !== undefined && /^(0|root)(:.*)?$/.test(u);

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Host files `--no-compat` binds (upstream's default `bind path` entries). */
export const NO_COMPAT_BIND_PATHS = ['/etc/localtime', '/etc/hosts'];

/** Everything a launch prepares before running: the spec and what the bundle needs. */
interface Prepared {
  spec: Spec;
  runtime: Runtime;
  plan: UsernsPlan;
  rootfs: string;
  stateRoot: string;
  id: string;
  overlays: OverlayPlan;
  /** Files to write into the bundle (relative path → content). */
  files: Map<string, string | Buffer>;
  /** Directories to create with mode 01777 (`--workdir`). */
  workdirDirs: string[];
  layout: Awaited<ReturnType<typeof cgroupLayout>>;
}

/**
 * Runs an image: resolves and unpacks it (cached), writes a private bundle, runs the runtime in
 * the foreground and returns the container's exit status. The bundle is removed afterwards,
 * whatever happens; a signal during preparation aborts the launch (128+signal).
 */
export async function launch(options: LaunchOptions): Promise<ExitStatus> {
  const opts = parseOptions(LaunchOptionsSchema, options, 'launch options');
  const abort = new AbortController();
  let caught: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    caught = s;
    abort.abort(new LaunchError('ERR_LAUNCH_INTERRUPTED', `launch interrupted by ${s}`));
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  let bundle: string | undefined;
  const cleanupSync = () => {
    if (bundle) rmSync(bundle, { recursive: true, force: true });
  };
  process.on('exit', cleanupSync);
  try {
    const p = await prepare(opts, abort.signal, (b) => {
      bundle = b;
    });
    if (caught) throw abort.signal.reason;
    const b = bundle as string;
    await mkdir(path.join(b, 'etc'), { mode: 0o755 });
    for (const [name, content] of p.files) await writeFile(path.join(b, name), content);
    await makeWorkdirDirs(p.workdirDirs);
    if (p.overlays.writable) await prepareWritableOverlay(p.overlays.writable);
    await mkdir(path.join(b, 'rootfs'));
    await mkdir(path.join(b, 'overlay'));
    await writeSpec(b, p.spec);
    if (caught) throw abort.signal.reason;

    for (const s of SIGNALS) process.off(s, onSignal);
    return await runContainer({
      runtime: p.runtime,
      bundle: b,
      id: p.id,
      root: p.stateRoot,
      rootless: p.plan.kind !== 'root',
      wrap: namespaceWrapper({
        plan: p.plan,
        bundle: b,
        rootfs: p.rootfs,
        maskCgroup: needsCgroupMask(p.runtime, p.layout),
        lower: p.overlays.lower,
        writable: p.overlays.writable,
        allowSetuid: opts.allowSetuid,
      }),
    });
  } catch (e) {
    if (caught) {
      const { constants } = await import('node:os');
      return { exitCode: 128 + (constants.signals[caught] ?? 0), signal: caught };
    }
    throw e;
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
    process.off('exit', cleanupSync);
    if (bundle) await rm(bundle, { recursive: true, force: true });
  }
}

/**
 * The `config.json` `launch()` would run with these options (`berth --dry-run`), validated. No
 * container runs and no bundle, mount or work directory is created; the image is resolved and
 * its rootfs taken from the cache (unpacked into it when missing, as `launch()` would), because
 * the image's files decide the user and the generated /etc files. The bundle paths in the spec
 * point where a launch would put its bundle.
 */
export async function dryRun(options: LaunchOptions): Promise<Spec> {
  const opts = parseOptions(LaunchOptionsSchema, options, 'launch options');
  const p = await prepare(opts, undefined, undefined);
  return p.spec;
}

async function prepare(
  opts: ResolvedLaunchOptions,
  signal: AbortSignal | undefined,
  onBundle: ((bundle: string) => void) | undefined,
): Promise<Prepared> {
  checkOptions(opts);
  const hostEnv = opts.hostEnv ?? process.env;
  const warn = (m: string) => opts.onWarning?.(m);
  const info = (m: string) => opts.onInfo?.(m);
  const hostCwd = process.cwd();

  // Options that need no image: parse and check them first, so mistakes fail fast.
  const resolvConf =
    opts.dns !== undefined && opts.dns !== '' ? resolvConfFromDns(opts.dns) : undefined;
  const noMount = parseNoMount(opts.noMount);
  for (const u of noMount.unknown) warn(`--no-mount ${u} is not a mount berth knows, ignoring it`);
  const honouredPaths = ['/etc/resolv.conf', ...(opts.noCompat ? NO_COMPAT_BIND_PATHS : [])];
  for (const n of noMount.names) {
    if (n.startsWith('/') && !honouredPaths.includes(n))
      warn(`--no-mount ${n} is not supported in OCI mode, ignoring it`);
    if (n === 'cwd' && !opts.noCompat) warn('--no-mount cwd has an effect only with --no-compat');
  }
  const skip = new Set(noMount.names);
  const customHome = opts.home !== undefined ? parseHomeSpec(opts.home, hostCwd) : undefined;
  const scratch = parseScratchDirs(opts.scratch);
  const userBinds: BindSpec[] = [...parseBindSpecs(opts.binds), ...parseMountSpecs(opts.mounts)];
  const overlays = await planOverlays(opts.overlays, hostCwd);
  const resources = await cgroupResources({ limits: opts.limits, applyCgroups: opts.applyCgroups });
  let workdir: string | undefined;
  if (opts.workdir !== undefined) {
    workdir = path.resolve(hostCwd, opts.workdir);
    const st = await stat(workdir).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw new LaunchError(
        'ERR_LAUNCH_WORKDIR',
        st ? `workdir "${workdir}" is not a directory` : `workdir "${workdir}" does not exist`,
        { hint: 'create it first: mkdir -p DIR' },
      );
    }
  }
  const fileEnv = { ...hostEnv, BERTH_IMAGE: opts.image, SINGULARITY_IMAGE: opts.image };
  const envFiles: Map<string, string>[] = [];
  for (const f of opts.envFiles.flatMap((x) => x.split(',')).filter(Boolean))
    envFiles.push(await readEnvFile(path.resolve(hostCwd, f), fileEnv));

  const user = await hostUser();
  const layout = await cgroupLayout();
  if (resources) checkCgroupSupport({ uid: user.uid, layout });
  const runtime = await findRuntime({ runtime: opts.runtime, env: hostEnv });
  if (opts.noSetgroups && runtime.name !== 'crun') {
    throw new LaunchError(
      'ERR_LAUNCH_SETGROUPS',
      `runtime "${runtime.name}" (${runtime.path}) does not support --no-setgroups`,
      { hint: 'use crun: --runtime crun' },
    );
  }
  if (opts.ipc) info('berth always uses an IPC namespace, --ipc is redundant');
  if (opts.pid) info('berth uses a PID namespace by default, --pid is redundant');
  if (opts.userns && user.uid !== 0)
    info('berth always creates a user namespace when run as non-root, --userns is redundant');

  const session = await openImage(opts, hostEnv);
  const { image } = session;
  const defaults = imageDefaults(image.config);
  const config = (image.config as { config?: Record<string, unknown> }).config ?? {};
  if (config.Volumes && Object.keys(config.Volumes as object).length > 0)
    warn(
      'the image specifies volume mounts, which berth does not create; it may not work as expected',
    );
  if (config.ExposedPorts && Object.keys(config.ExposedPorts as object).length > 0 && !opts.net)
    info(
      'the image specifies exposed ports; without --net, berth uses the host network and all ports are exposed subject to host firewall rules',
    );
  const runAsImageRoot = !opts.fakeroot && user.uid !== 0 && isRootUser(defaults.user);
  const plan = await planUserns(user, opts.fakeroot || runAsImageRoot, opts.onWarning);
  const cacheDir = session.cacheDir;
  const rootfs = await ensureRootfs({
    image,
    imageRef: opts.image,
    plan,
    cacheDir,
    session,
    onProgress: opts.onProgress,
    onWarning: opts.onWarning,
    signal,
  });
  if (OVERLAY_UNSAFE.test(rootfs)) {
    throw new LaunchError(
      'ERR_LAUNCH_PATH',
      `the cache path "${rootfs}" contains a character overlayfs cannot take (, : or \\)`,
      { hint: 'set BERTH_CACHEDIR to a path without them' },
    );
  }
  if (signal?.aborted) throw signal.reason;

  const stateRoot = await runtimeStateRoot({ uid: user.uid, env: hostEnv });
  let bundle: string;
  if (onBundle) {
    await mkdir(path.join(stateRoot, 'bundles'), { recursive: true, mode: 0o700 });
    bundle = await mkdtemp(path.join(stateRoot, 'bundles', 'b-'));
    onBundle(bundle);
  } else bundle = path.join(stateRoot, 'bundles', 'b-dry-run');
  const id = `berth-${randomBytes(8).toString('hex')}`;

  const spec = await buildSpec({
    opts,
    user,
    plan,
    image,
    defaults,
    rootfs,
    bundle,
    hostEnv,
    hostCwd,
    runtime,
    skip,
    customHome,
    scratch,
    userBinds,
    workdir,
    envFiles,
    resolvConf,
    resources,
    id,
    warn,
  });
  return {
    spec: spec.spec,
    runtime,
    plan,
    rootfs,
    stateRoot,
    id,
    overlays,
    files: spec.files,
    workdirDirs: workdir ? workdirDirectories(workdir, scratch) : [],
    layout,
  };
}

interface SpecInput {
  opts: ResolvedLaunchOptions;
  user: HostUser;
  plan: UsernsPlan;
  image: Awaited<ReturnType<typeof resolveImage>>;
  defaults: ReturnType<typeof imageDefaults>;
  rootfs: string;
  bundle: string;
  hostEnv: Record<string, string | undefined>;
  hostCwd: string;
  runtime: Runtime;
  skip: Set<string>;
  customHome: { source?: string; destination: string } | undefined;
  scratch: string[];
  userBinds: BindSpec[];
  workdir: string | undefined;
  envFiles: Map<string, string>[];
  resolvConf: string | undefined;
  resources: LinuxResources | undefined;
  id: string;
  warn: (message: string) => void;
}

async function resolveUser(
  imageUser: string,
  rootfs: string,
): Promise<{ uid: number; gid: number }> {
  if (imageUser.includes(':') && !/^\d+:\d+$/.test(imageUser)) {
    throw new LaunchError(
      'ERR_LAUNCH_USER',
      `image user "${imageUser}" is not supported: use a name or a uid`,
      { hint: 'use --fakeroot to run as root instead' },
    );
  }
  if (/^\d+:\d+$/.test(imageUser)) {
    const [uid, gid] = imageUser.split(':').map(Number) as [number, number];
    return { uid, gid };
  }
  const passwd = await readImageFile(rootfs, '/etc/passwd').catch((cause) => {
    throw new LaunchError(
      'ERR_LAUNCH_USER',
      `cannot read the image's /etc/passwd to find its user "${imageUser}": permission denied`,
      { hint: 'use --fakeroot to run as root instead', cause },
    );
  });
  const entry = passwd === undefined ? undefined : findPasswdUser(passwd, imageUser);
  if (entry) return { uid: entry.uid, gid: entry.gid };
  if (/^\d+$/.test(imageUser)) return { uid: Number(imageUser), gid: Number(imageUser) };
  throw new LaunchError(
    'ERR_LAUNCH_USER',
    `image user "${imageUser}" is not in the image's /etc/passwd`,
    { hint: 'the image is broken; use --fakeroot to run as root instead' },
  );
}

async function capabilityBase(opts: ResolvedLaunchOptions, user: HostUser) {
  if (opts.noPrivs) return [];
  if (!opts.keepPrivs) return undefined;
  // as root, this process's capabilities; rootless, all of them (root of the user namespace)
  return user.uid === 0 ? await effectiveCapabilities() : ['ALL'];
}

async function buildSpec(
  input: SpecInput,
): Promise<{ spec: Spec; files: Map<string, string | Buffer> }> {
  const { opts, user, plan, image, defaults, rootfs, bundle, hostEnv, skip } = input;
  const fakeroot = plan.uid === 0 && user.uid !== 0 ? true : opts.fakeroot;
  const homeDest = input.customHome?.destination ?? (fakeroot ? '/root' : user.home);
  const files = new Map<string, string | Buffer>();

  // The process identity: the plan's, or the image's USER.
  const imageUser = opts.fakeroot ? undefined : defaults.user || undefined;
  let { uid, gid } = plan;
  if (imageUser !== undefined) ({ uid, gid } = await resolveUser(imageUser, rootfs));
  if (imageUser !== undefined && input.customHome !== undefined) {
    throw new LaunchError(
      'ERR_LAUNCH_HOME',
      'a custom --home is not currently supported when running containers that declare a USER',
      { hint: 'drop --home; the image sets its user and home' },
    );
  }

  const args = processArgs(opts.action, opts.args, defaults, opts.image);
  const env = buildEnv({
    imageEnv: defaults.env,
    hostEnv,
    userEnv: opts.env,
    envFiles: input.envFiles,
    home: homeDest,
    imageHasUser: imageUser !== undefined,
    hostPassthrough: opts.noCompat && !opts.cleanEnv ? 'all' : 'clean',
  });
  const terminal = opts.terminal ?? Boolean(process.stdin.isTTY);
  const ttyGid = user.uid === 0 ? await ttyGidOf() : undefined;

  // Mounts, in upstream's order (reference B.5.3).
  let devBind = false;
  if (opts.noCompat) {
    if (input.runtime.name === 'crun') devBind = true;
    else
      input.warn(
        `can only bind /dev when using crun as the OCI runtime; using ${input.runtime.name}, so a minimal /dev`,
      );
  }
  const homeSource = input.customHome?.source ?? (opts.noCompat ? user.home : undefined);
  const mounts: Mount[] = defaultMounts({
    // in a user namespace (--userns as root) sysfs cannot be mounted: bind it as a user does
    hostRoot: user.uid === 0 && !opts.userns,
    homeDest,
    homeUid: fakeroot ? undefined : user.uid,
    homeGid: fakeroot ? undefined : user.gid,
    ttyGid,
    noPid: opts.noPid,
    noMount: [...skip],
    allowSetuid: opts.allowSetuid,
    homeSource,
    noHome: opts.noHome,
    workdir: input.workdir,
    scratch: input.scratch,
    hostTmp: opts.noCompat,
    devBind,
    keepPrivs: opts.keepPrivs,
  });
  const bindOptions = { allowSetuid: opts.allowSetuid, hostRoot: user.uid === 0, ttyGid };
  if (homeSource !== undefined && !opts.noHome && !skip.has('home'))
    await checkBindSource(homeSource, input.hostCwd);
  if (opts.noCompat && !skip.has('bind-paths')) {
    for (const p of NO_COMPAT_BIND_PATHS) {
      if (skip.has(p) || !(await stat(p).catch(() => undefined))) continue;
      mounts.push(
        ...(await bindMounts([{ source: p, destination: p, readonly: false }], bindOptions)),
      );
    }
  }
  mounts.push(...(await bindMounts(input.userBinds, bindOptions)));
  if (opts.noCompat && !skip.has('cwd')) {
    mounts.push(
      ...(await bindMounts(
        [{ source: input.hostCwd, destination: input.hostCwd, readonly: false }],
        bindOptions,
      )),
    );
  }
  // a /var/tmp that is /tmp in the image gets no mount of its own (upstream 4.0.1)
  if (!skip.has('tmp')) {
    const [tmp, varTmp] = await Promise.all([
      resolveInImage(rootfs, '/tmp'),
      resolveInImage(rootfs, '/var/tmp'),
    ]);
    if (tmp !== undefined && tmp === varTmp) {
      const i = mounts.findIndex(
        (m) =>
          m.destination === '/var/tmp' &&
          (m.type === 'tmpfs' || m.source === '/var/tmp' || m.source?.endsWith('/var_tmp')),
      );
      if (i >= 0) mounts.splice(i, 1);
    }
  }

  // Capabilities (reference B.5.6)
  const add = normalizeCapabilities(opts.addCaps);
  const drop = normalizeCapabilities(opts.dropCaps);
  if (add.unknown.length > 0) input.warn(`ignoring unknown --add-caps: ${add.unknown.join(',')}`);
  if (drop.unknown.length > 0)
    input.warn(`ignoring unknown --drop-caps: ${drop.unknown.join(',')}`);

  const spec = minimalSpec();
  spec.root = { path: path.join(bundle, 'rootfs'), readonly: opts.noCompat && !opts.writableTmpfs };
  spec.process = buildProcess({
    args,
    env,
    cwd: opts.cwd ?? (opts.noCompat ? input.hostCwd : (defaults.workingDir ?? homeDest)),
    uid,
    gid,
    terminal,
    // crun does not copy the caller's terminal size to the container's pty; runc does.
    consoleSize: terminal ? terminalSize() : undefined,
    capabilities: capabilitySet({
      targetUid: uid,
      base: await capabilityBase(opts, user),
      add: add.known,
      drop: drop.known,
    }),
    noNewPrivileges: opts.noPrivs ? true : undefined,
    umask: opts.noCompat && !opts.noUmask ? currentUmask() : undefined,
  });
  spec.mounts = mounts;
  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  if (opts.net) namespaces.push({ type: 'network' });
  if (!opts.noPid) namespaces.push({ type: 'pid' });
  if (opts.userns && user.uid === 0) {
    // Upstream adds an unmapped user namespace, which runc refuses ("no uid mappings found")
    // and crun cannot set up; berth maps every id to itself instead.
    namespaces.push({ type: 'user' });
    linux.uidMappings = [{ containerID: 0, hostID: 0, size: 0xffffffff }];
    linux.gidMappings = [{ containerID: 0, hostID: 0, size: 0xffffffff }];
  }
  if (opts.uts || opts.hostname !== undefined) namespaces.push({ type: 'uts' });
  if (plan.innerUid.length > 0 && uid !== 0) {
    namespaces.push({ type: 'user' });
    linux.uidMappings = plan.innerUid.map((m) => ({ ...m }));
    linux.gidMappings = plan.innerGid.map((m) => ({ ...m }));
  }
  linux.namespaces = namespaces;
  if (input.resources) {
    linux.resources = input.resources;
    linux.cgroupsPath = `/${input.id}`;
  }
  spec.linux = linux;
  if (opts.hostname !== undefined) spec.hostname = opts.hostname;

  if (opts.devices.length > 0)
    await injectCdiDevices(
      spec,
      opts.devices,
      opts.cdiDirs.length > 0 ? opts.cdiDirs : DEFAULT_CDI_DIRS,
      { rootless: plan.kind !== 'root' },
    );

  // /etc files, generated into the bundle and bound read-only.
  const etcBind = (name: string): Mount => ({
    destination: `/etc/${name}`,
    type: 'bind',
    source: path.join(bundle, 'etc', name),
    options: ['bind', 'ro', 'nosuid', 'nodev'],
  });
  if (!skip.has('/etc/resolv.conf')) {
    let content: string | Buffer | undefined = input.resolvConf;
    if (content === undefined) {
      try {
        content = await readFile('/etc/resolv.conf');
      } catch {
        input.warn('cannot read the host /etc/resolv.conf; the image keeps its own');
      }
    }
    if (content !== undefined) {
      files.set('etc/resolv.conf', content);
      spec.mounts.push(etcBind('resolv.conf'));
    }
  }
  if (imageUser === undefined) {
    const readEtc = (file: string) =>
      readImageFile(rootfs, file).catch(() => {
        input.warn(
          `cannot read the image's ${file} (its permissions keep you out); leaving it as it is`,
        );
        return null;
      });
    const imagePasswd = await readEtc('/etc/passwd');
    const imageGroup = await readEtc('/etc/group');
    if (imagePasswd === undefined) {
      input.warn('the image has no /etc/passwd; not adding your user to it');
    } else if (imagePasswd !== null) {
      const hostPasswd = await readFile('/etc/passwd', 'utf8').catch(() => '');
      files.set('etc/passwd', generatePasswd(imagePasswd, hostPasswd, user, uid, homeDest));
      spec.mounts.push(etcBind('passwd'));
    }
    if (imageGroup !== undefined && imageGroup !== null) {
      const name = gid === 0 ? 'root' : user.groupName;
      files.set('etc/group', generateGroup(imageGroup, name, gid, uid === 0 ? 'root' : user.name));
      spec.mounts.push(etcBind('group'));
    }
  }

  spec.annotations = annotations(image.config as Record<string, unknown>, defaults.labels);
  if (opts.noSetgroups) spec.annotations['run.oci.keep_original_groups'] = '1';
  return { spec, files };
}

/** Creates the workdir's directories (sticky, world-writable, as upstream); existing ones stay. */
async function makeWorkdirDirs(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    try {
      await mkdir(dir);
      await chmod(dir, 0o1777);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new LaunchError(
        'ERR_LAUNCH_WORKDIR',
        `failed to create "${dir}": ${(cause as NodeJS.ErrnoException).code ?? cause}`,
        { hint: 'the workdir must be writable by you', cause },
      );
    }
  }
}

function currentUmask(): number {
  const mask = process.umask(0o022);
  process.umask(mask);
  return mask;
}

function terminalSize(): { height: number; width: number } | undefined {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.isTTY && stream.rows > 0 && stream.columns > 0)
      return { height: stream.rows, width: stream.columns };
  }
  return undefined;
}

async function ttyGidOf(): Promise<number | undefined> {
  try {
    const groups = await readFile('/etc/group', 'utf8');
    const line = groups.split('\n').find((l) => l.startsWith('tty:'));
    const gid = Number(line?.split(':')[2]);
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}

function annotations(
  config: Record<string, unknown>,
  labels: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: unknown) => {
    if (typeof v === 'string' && v !== '') out[`org.opencontainers.image.${k}`] = v;
  };
  put('os', config.os);
  put('architecture', config.architecture);
  put('variant', config.variant);
  put('os.version', config['os.version']);
  if (Array.isArray(config['os.features']))
    put('os.features', (config['os.features'] as unknown[]).join(','));
  put('author', config.author);
  put('created', config.created);
  const inner = (config.config ?? {}) as Record<string, unknown>;
  put('stopSignal', inner.StopSignal);
  return { ...out, ...labels };
}
