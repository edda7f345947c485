/**
 * The container's mounts, in SingularityCE's order: the default set (proc, sys, dev, home,
 * tmp, ...), the `--no-compat` host paths, the user's `--bind`/`--mount`s, then the current
 * directory with `--no-compat`. A /var/tmp that is /tmp in the image gets no mount of its own.
 */
import type { Mount } from '@berth-oci/bundle-spec';
import {
  type BindSpec,
  bindMounts,
  checkBindSource,
  defaultMounts,
  type HomeSpec,
} from '@berth-oci/mounts';
import type { RuntimeName } from '@berth-oci/runtime-ops';
import { resolveInImage } from './image-path.js';

export interface MountsInput {
  /** berth runs as host root. */
  hostRoot: boolean;
  /** `--userns` (as root: sysfs cannot be mounted in the new user namespace). */
  userns: boolean;
  /** `--no-compat`: host /tmp, /var/tmp, home, cwd and (crun) /dev. */
  noCompat: boolean;
  runtime: RuntimeName;
  /** The home directory in the container, and who owns a tmpfs home (unset: root). */
  homeDest: string;
  homeOwner: { uid: number; gid: number } | undefined;
  customHome: HomeSpec | undefined;
  /** The host's home directory (bound with `--no-compat`). */
  hostHome: string;
  noHome: boolean;
  /** The host's tty group, for devpts. */
  ttyGid: number | undefined;
  noPid: boolean;
  /** The site's `mount dev = minimal`: never the host's /dev, not even with `--no-compat`. */
  minimalDev?: boolean;
  /** `--no-mount` names. */
  skip: Set<string>;
  allowSetuid: boolean;
  keepPrivs: boolean;
  workdir: string | undefined;
  scratch: string[];
  /** Which of the `--no-compat` host paths exist. */
  compatPaths: string[];
  userBinds: BindSpec[];
  /** The host directory relative paths and `--no-compat`'s cwd bind are taken from. */
  cwd: string;
  /** The image rootfs, to see whether its /var/tmp is its /tmp. */
  rootfs: string;
  warn: (message: string) => void;
}

export async function containerMounts(input: MountsInput): Promise<Mount[]> {
  const { skip } = input;
  let devBind = false;
  if (input.noCompat && !input.minimalDev) {
    if (input.runtime === 'crun') devBind = true;
    else
      input.warn(
        `can only bind /dev when using crun as the OCI runtime; using ${input.runtime}, so a minimal /dev`,
      );
  }
  // native (--no-compat): a lone `--home DIR` is the host's DIR, bound at the same path
  const homeSource =
    input.customHome?.source ??
    (input.noCompat ? (input.customHome?.destination ?? input.hostHome) : undefined);
  const mounts: Mount[] = defaultMounts({
    // in a user namespace (--userns as root) sysfs cannot be mounted: bind it as a user does
    hostRoot: input.hostRoot && !input.userns,
    homeDest: input.homeDest,
    homeUid: input.homeOwner?.uid,
    homeGid: input.homeOwner?.gid,
    ttyGid: input.ttyGid,
    noPid: input.noPid,
    noMount: [...skip],
    allowSetuid: input.allowSetuid,
    homeSource,
    noHome: input.noHome,
    workdir: input.workdir,
    scratch: input.scratch,
    hostTmp: input.noCompat,
    devBind,
    keepPrivs: input.keepPrivs,
  });
  const bindOptions = {
    allowSetuid: input.allowSetuid,
    hostRoot: input.hostRoot,
    ttyGid: input.ttyGid,
  };
  if (homeSource !== undefined && !input.noHome && !skip.has('home'))
    await checkBindSource(homeSource, input.cwd);
  if (input.noCompat && !skip.has('bind-paths')) {
    for (const p of input.compatPaths) {
      if (skip.has(p)) continue;
      mounts.push(
        ...(await bindMounts([{ source: p, destination: p, readonly: false }], bindOptions)),
      );
    }
  }
  mounts.push(...(await bindMounts(input.userBinds, bindOptions)));
  // not from / itself: the host root cannot be bound over the container's
  if (input.noCompat && !skip.has('cwd') && input.cwd !== '/') {
    mounts.push(
      ...(await bindMounts(
        [{ source: input.cwd, destination: input.cwd, readonly: false }],
        bindOptions,
      )),
    );
  }
  if (!skip.has('tmp')) await dropVarTmpOfTmp(mounts, input.rootfs);
  return mounts;
}

/** Removes the /var/tmp mount when the image's /var/tmp leads to its /tmp (as SingularityCE 4.0.1 does). */
async function dropVarTmpOfTmp(mounts: Mount[], rootfs: string): Promise<void> {
  const [tmp, varTmp] = await Promise.all([
    resolveInImage(rootfs, '/tmp'),
    resolveInImage(rootfs, '/var/tmp'),
  ]);
  if (tmp === undefined || tmp !== varTmp) return;
  const i = mounts.findIndex(
    (m) =>
      m.destination === '/var/tmp' &&
      (m.type === 'tmpfs' || m.source === '/var/tmp' || m.source?.endsWith('/var_tmp')),
  );
  if (i >= 0) mounts.splice(i, 1);
}
