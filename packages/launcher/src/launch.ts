import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildProcess,
  capabilitySet,
  type Mount,
  minimalSpec,
  type Spec,
  writeSpec,
} from '@berth/bundle-spec';
import { parseOptions } from '@berth/errors';
import { defaultCacheDir, imageDefaults, resolveImage } from '@berth/image-extract';
import { bindMounts, defaultMounts, parseBindSpecs } from '@berth/mounts';
import {
  cgroupLayout,
  type ExitStatus,
  findRuntime,
  needsCgroupMask,
  runContainer,
  runtimeStateRoot,
} from '@berth/runtime-ops';
import { buildEnv } from './env.js';
import { LaunchError } from './errors.js';
import { findPasswdUser, generateGroup, generatePasswd, readImageFile } from './etc-files.js';
import { type HostUser, hostUser, planUserns } from './identity.js';
import { namespaceWrapper, OVERLAY_UNSAFE } from './namespace.js';
import { type LaunchOptions, LaunchOptionsSchema, type ResolvedLaunchOptions } from './options.js';
import { ensureRootfs } from './rootfs.js';

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

/**
 * Runs an image: resolves and unpacks it (cached), writes a private bundle, runs the runtime in
 * the foreground and returns the container's exit status. The bundle is removed afterwards,
 * whatever happens; a signal during preparation aborts the launch (128+signal).
 */
export async function launch(options: LaunchOptions): Promise<ExitStatus> {
  const opts = parseOptions(LaunchOptionsSchema, options, 'launch options');
  const hostEnv = opts.hostEnv ?? process.env;
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
    const user = await hostUser();
    const image = await resolveImage(opts.image);
    const defaults = imageDefaults(image.config);
    const runAsImageRoot = !opts.fakeroot && user.uid !== 0 && isRootUser(defaults.user);
    const plan = await planUserns(user, opts.fakeroot || runAsImageRoot, opts.onWarning);
    const runtime = await findRuntime({ runtime: opts.runtime, env: hostEnv });
    const cacheDir = opts.cacheDir ?? defaultCacheDir(hostEnv as NodeJS.ProcessEnv);
    const rootfs = await ensureRootfs({
      image,
      imageRef: opts.image,
      plan,
      cacheDir,
      onProgress: opts.onProgress,
      onWarning: opts.onWarning,
      signal: abort.signal,
    });
    if (OVERLAY_UNSAFE.test(rootfs)) {
      throw new LaunchError(
        'ERR_LAUNCH_PATH',
        `the cache path "${rootfs}" contains a character overlayfs cannot take (, : or \\)`,
        {
          hint: 'set BERTH_CACHEDIR to a path without them',
        },
      );
    }
    if (caught) throw abort.signal.reason;

    const stateRoot = await runtimeStateRoot({ uid: user.uid, env: hostEnv });
    await mkdir(path.join(stateRoot, 'bundles'), { recursive: true, mode: 0o700 });
    bundle = await mkdtemp(path.join(stateRoot, 'bundles', 'b-'));
    const spec = await buildSpec({ opts, user, plan, image, defaults, rootfs, bundle, hostEnv });
    await mkdir(path.join(bundle, 'rootfs'));
    await mkdir(path.join(bundle, 'overlay'));
    await writeSpec(bundle, spec);
    if (caught) throw abort.signal.reason;

    const layout = await cgroupLayout();
    for (const s of SIGNALS) process.off(s, onSignal);
    return await runContainer({
      runtime,
      bundle,
      id: `berth-${randomBytes(8).toString('hex')}`,
      root: stateRoot,
      rootless: plan.kind !== 'root',
      wrap: namespaceWrapper({
        plan,
        bundle,
        rootfs,
        maskCgroup: needsCgroupMask(runtime, layout),
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

interface SpecInput {
  opts: ResolvedLaunchOptions;
  user: HostUser;
  plan: Awaited<ReturnType<typeof planUserns>>;
  image: Awaited<ReturnType<typeof resolveImage>>;
  defaults: ReturnType<typeof imageDefaults>;
  rootfs: string;
  bundle: string;
  hostEnv: Record<string, string | undefined>;
}

async function buildSpec(input: SpecInput): Promise<Spec> {
  const { opts, user, plan, image, defaults, rootfs, bundle, hostEnv } = input;
  const fakeroot = plan.uid === 0 && user.uid !== 0 ? true : opts.fakeroot;
  const homeDest = fakeroot ? '/root' : user.home;

  // The process identity: the plan's, or the image's USER.
  let uid = plan.uid;
  let gid = plan.gid;
  const imageUser = opts.fakeroot ? undefined : defaults.user || undefined;
  if (imageUser !== undefined) {
    if (imageUser.includes(':') && !/^\d+:\d+$/.test(imageUser)) {
      throw new LaunchError(
        'ERR_LAUNCH_USER',
        `image user "${imageUser}" is not supported: use a name or a uid`,
        {
          hint: 'use --fakeroot to run as root instead',
        },
      );
    }
    if (/^\d+:\d+$/.test(imageUser)) {
      [uid, gid] = imageUser.split(':').map(Number) as [number, number];
    } else {
      const passwd = await readImageFile(rootfs, '/etc/passwd');
      const entry = passwd === undefined ? undefined : findPasswdUser(passwd, imageUser);
      if (entry) {
        uid = entry.uid;
        gid = entry.gid;
      } else if (/^\d+$/.test(imageUser)) {
        uid = Number(imageUser);
        gid = Number(imageUser);
      } else {
        throw new LaunchError(
          'ERR_LAUNCH_USER',
          `image user "${imageUser}" is not in the image's /etc/passwd`,
          {
            hint: 'the image is broken; use --fakeroot to run as root instead',
          },
        );
      }
    }
  }

  const args = processArgs(opts.action, opts.args, defaults, opts.image);
  const env = buildEnv({
    imageEnv: defaults.env,
    hostEnv,
    userEnv: opts.env,
    home: homeDest,
    imageHasUser: imageUser !== undefined,
  });
  const terminal = opts.terminal ?? Boolean(process.stdin.isTTY);

  const mounts: Mount[] = defaultMounts({
    hostRoot: user.uid === 0,
    homeDest,
    homeUid: fakeroot ? undefined : user.uid,
    homeGid: fakeroot ? undefined : user.gid,
    ttyGid: user.uid === 0 ? await ttyGid() : undefined,
  });
  mounts.push(...(await bindMounts(parseBindSpecs(opts.binds))));

  // /etc files, generated into the bundle and bound read-only.
  await mkdir(path.join(bundle, 'etc'), { mode: 0o755 });
  const etcBind = (name: string): Mount => ({
    destination: `/etc/${name}`,
    type: 'bind',
    source: path.join(bundle, 'etc', name),
    options: ['bind', 'ro', 'nosuid', 'nodev'],
  });
  try {
    await writeFile(path.join(bundle, 'etc', 'resolv.conf'), await readFile('/etc/resolv.conf'));
    mounts.push(etcBind('resolv.conf'));
  } catch {
    opts.onWarning?.('cannot read the host /etc/resolv.conf; the image keeps its own');
  }
  if (imageUser === undefined) {
    const imagePasswd = await readImageFile(rootfs, '/etc/passwd');
    const imageGroup = await readImageFile(rootfs, '/etc/group');
    if (imagePasswd === undefined) {
      opts.onWarning?.('the image has no /etc/passwd; not adding your user to it');
    } else {
      const hostPasswd = await readFile('/etc/passwd', 'utf8').catch(() => '');
      await writeFile(
        path.join(bundle, 'etc', 'passwd'),
        generatePasswd(imagePasswd, hostPasswd, user, uid, homeDest),
      );
      mounts.push(etcBind('passwd'));
    }
    if (imageGroup !== undefined) {
      const name = gid === 0 ? 'root' : user.groupName;
      await writeFile(
        path.join(bundle, 'etc', 'group'),
        generateGroup(imageGroup, name, gid, uid === 0 ? 'root' : user.name),
      );
      mounts.push(etcBind('group'));
    }
  }

  const spec = minimalSpec();
  spec.root = { path: path.join(bundle, 'rootfs'), readonly: false };
  spec.process = buildProcess({
    args,
    env,
    cwd: opts.cwd ?? defaults.workingDir ?? homeDest,
    uid,
    gid,
    terminal,
    // crun does not copy the caller's terminal size to the container's pty; runc does.
    consoleSize: terminal ? terminalSize() : undefined,
    capabilities: capabilitySet({ targetUid: uid }),
  });
  spec.mounts = mounts;
  const linux = spec.linux ?? {};
  linux.namespaces = [...(linux.namespaces ?? []), { type: 'pid' }];
  if (plan.innerUid.length > 0 && uid !== 0) {
    linux.namespaces.push({ type: 'user' });
    linux.uidMappings = plan.innerUid.map((m) => ({ ...m }));
    linux.gidMappings = plan.innerGid.map((m) => ({ ...m }));
  }
  spec.linux = linux;
  spec.annotations = annotations(image.config as Record<string, unknown>, defaults.labels);
  return spec;
}

function terminalSize(): { height: number; width: number } | undefined {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.isTTY && stream.rows > 0 && stream.columns > 0)
      return { height: stream.rows, width: stream.columns };
  }
  return undefined;
}

async function ttyGid(): Promise<number | undefined> {
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
  put('author', config.author);
  put('created', config.created);
  return { ...out, ...labels };
}
