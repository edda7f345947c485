/**
 * The spec step of a launch: the plan, the probed host and the unpacked image → the runtime
 * spec (`config.json`) and the files the bundle needs. Each part comes from its own module:
 * the process (spec-process), the mounts (spec-mounts), the namespaces (spec-namespaces), the
 * generated /etc files (spec-etc), CDI devices (cdi).
 */
import path from 'node:path';
import { buildProcess, minimalSpec, type Spec } from '@berth-oci/bundle-spec';
import { imageDefaults, type ResolvedImage } from '@berth-oci/image-extract';
import { injectCdiDevices } from './cdi.js';
import { DEFAULT_CDI_DIRS } from './cdi-specs.js';
import { buildEnv } from './env.js';
import { LaunchError } from './errors.js';
import type { HostFacts, SpecHostFacts } from './host.js';
import type { UsernsPlan } from './identity.js';
import type { LaunchInputs } from './inputs.js';
import { jobLaunch, NO_JOB } from './job-env.js';
import type { ResolvedLaunchOptions } from './options.js';
import type { OptionPlan } from './plan.js';
import { etcFiles } from './spec-etc.js';
import { containerMounts } from './spec-mounts.js';
import { applyNamespaces } from './spec-namespaces.js';
import { processArgs, processCapabilities, resolveImageUser } from './spec-process.js';

export interface SpecInput {
  opts: ResolvedLaunchOptions;
  host: HostFacts;
  hostSpec: SpecHostFacts;
  plan: OptionPlan;
  inputs: LaunchInputs;
  userns: UsernsPlan;
  image: ResolvedImage;
  /** The unpacked image (the lowest overlay layer). */
  rootfs: string;
  /** Where the bundle is (or would be, for a dry run). */
  bundle: string;
  id: string;
  warn: (message: string) => void;
}

/** The spec of a launch and the files to write into its bundle (relative path → content). */
export async function buildSpec(
  input: SpecInput,
): Promise<{ spec: Spec; files: Map<string, string | Buffer> }> {
  const { opts, host, hostSpec, plan, userns, image, rootfs, bundle, warn } = input;
  const { user } = host;
  const defaults = imageDefaults(image.config);
  const fakeroot = userns.uid === 0 && user.uid !== 0 ? true : opts.fakeroot;
  const homeDest = plan.customHome?.destination ?? (fakeroot ? '/root' : user.home);

  // The process identity: the plan's, or the image's USER.
  const imageUser = opts.fakeroot ? undefined : defaults.user || undefined;
  let { uid, gid } = userns;
  if (imageUser !== undefined) ({ uid, gid } = await resolveImageUser(imageUser, rootfs));
  // refused whenever the image declares USER, --fakeroot or not (as upstream)
  if ((defaults.user || undefined) !== undefined && plan.customHome !== undefined) {
    throw new LaunchError(
      'ERR_LAUNCH_HOME',
      'a custom --home is not currently supported when running containers that declare a USER',
      { hint: 'drop --home; the image sets its user and home' },
    );
  }

  // an MPI rank's PMIx directories, /dev/shm and PID namespace (job-env.ts)
  const job = opts.cleanEnv ? NO_JOB : await jobLaunch(host.env);
  const noPid = opts.noPid || job.hostPid;
  const args = processArgs(opts.action, opts.args, defaults, opts.image);
  const env = buildEnv({
    imageEnv: defaults.env,
    hostEnv: host.env,
    userEnv: opts.env,
    envFiles: input.inputs.envFiles,
    home: homeDest,
    imageHasUser: imageUser !== undefined,
    hostPassthrough: opts.noCompat && !opts.cleanEnv ? 'all' : 'clean',
    jobEnv: !opts.cleanEnv,
  });
  const terminal = opts.terminal ?? hostSpec.stdinIsTerminal;

  const mounts = await containerMounts({
    hostRoot: user.uid === 0,
    userns: opts.userns,
    noCompat: opts.noCompat,
    runtime: host.runtime.name,
    homeDest,
    homeOwner: fakeroot ? undefined : { uid: user.uid, gid: user.gid },
    customHome: plan.customHome,
    hostHome: user.home,
    noHome: opts.noHome,
    ttyGid: hostSpec.ttyGid,
    noPid,
    minimalDev: plan.minimalDev,
    skip: plan.skip,
    allowSetuid: opts.allowSetuid,
    keepPrivs: opts.keepPrivs,
    workdir: input.inputs.workdir,
    scratch: plan.scratch,
    compatPaths: hostSpec.compatPaths,
    userBinds: [...job.binds, ...plan.userBinds], // the user's binds go over the job's
    cwd: host.cwd,
    rootfs,
    warn,
  });
  const capabilities = processCapabilities({
    targetUid: uid,
    noPrivs: opts.noPrivs,
    keepPrivs: opts.keepPrivs,
    // as root, this process's capabilities; rootless, all of them (root of the user namespace)
    callerCapabilities: user.uid === 0 ? hostSpec.capabilities : ['ALL'],
    addCaps: opts.addCaps,
    dropCaps: opts.dropCaps,
    warn,
  });

  const spec = minimalSpec();
  spec.root = { path: path.join(bundle, 'rootfs'), readonly: opts.noCompat && !opts.writableTmpfs };
  spec.process = buildProcess({
    args,
    env,
    cwd: opts.cwd ?? (opts.noCompat ? host.cwd : (defaults.workingDir ?? homeDest)),
    uid,
    gid,
    terminal,
    // crun does not copy the caller's terminal size to the container's pty; runc does.
    consoleSize: terminal ? hostSpec.terminalSize : undefined,
    capabilities,
    noNewPrivileges: opts.noPrivs ? true : undefined,
    umask: opts.noCompat && !opts.noUmask ? hostSpec.umask : undefined,
  });
  spec.mounts = mounts;
  applyNamespaces(spec, {
    net: opts.net,
    noPid,
    rootUserns: opts.userns && user.uid === 0,
    uts: opts.uts || Boolean(opts.hostname),
    innerUid: userns.innerUid,
    innerGid: userns.innerGid,
    uid,
    resources: input.inputs.resources,
    id: input.id,
  });
  if (opts.hostname) spec.hostname = opts.hostname;

  if (opts.devices.length > 0)
    await injectCdiDevices(
      spec,
      opts.devices,
      opts.cdiDirs.length > 0 ? opts.cdiDirs : DEFAULT_CDI_DIRS,
      { rootless: userns.kind !== 'root' },
    );

  const etc = await etcFiles({
    bundle,
    rootfs,
    skipResolvConf: plan.skip.has('/etc/resolv.conf'),
    passwd: plan.etcPasswd,
    group: plan.etcGroup,
    resolvConf: plan.resolvConf ?? hostSpec.resolvConf,
    fromDns: plan.resolvConf !== undefined,
    imageHasUser: imageUser !== undefined,
    user,
    hostPasswd: hostSpec.passwd,
    uid,
    gid,
    homeDest,
    warn,
  });
  spec.mounts.push(...etc.mounts);

  spec.annotations = annotations(image.config as Record<string, unknown>, defaults.labels);
  if (opts.noSetgroups) spec.annotations['run.oci.keep_original_groups'] = '1';
  return { spec, files: etc.files };
}

/** The image's annotations: its config's platform, author, creation and stop signal, and labels. */
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
