import { constants } from 'node:fs';
import { access, chmod, lstat, mkdir, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RuntimeError } from './errors.js';
import type { Runtime } from './find.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const TMPFS_MAGIC = 0x01021994;

/**
 * How the host mounts cgroups: `unified` (cgroup2 at /sys/fs/cgroup), `hybrid` (v1 controllers
 * plus cgroup2 at /sys/fs/cgroup/unified), `legacy` (v1 only) or `none`.
 */
export type CgroupLayout = 'unified' | 'hybrid' | 'legacy' | 'none';

async function fsType(p: string): Promise<number | undefined> {
  try {
    return (await statfs(p)).type;
  } catch {
    return undefined;
  }
}

export async function cgroupLayout(root = '/sys/fs/cgroup'): Promise<CgroupLayout> {
  const top = await fsType(root);
  if (top === undefined) return 'none';
  if (top === CGROUP2_SUPER_MAGIC) return 'unified';
  if (top !== TMPFS_MAGIC) return 'none';
  return (await fsType(path.join(root, 'unified'))) === CGROUP2_SUPER_MAGIC ? 'hybrid' : 'legacy';
}

/**
 * crun refuses hybrid hosts ("cgroups in hybrid mode not supported"); it runs when a tmpfs hides
 * /sys/fs/cgroup/unified in a private mount namespace. True when that mask is needed.
 */
export function needsCgroupMask(runtime: Runtime, layout: CgroupLayout): boolean {
  return runtime.name === 'crun' && layout === 'hybrid';
}

/** The path the cgroup mask hides. */
export const CGROUP_MASK_PATH = '/sys/fs/cgroup/unified';

async function isWritableDir(dir: string): Promise<boolean> {
  try {
    const st = await lstat(dir);
    if (!st.isDirectory()) return false;
    await access(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The runtime state root (`--root`) for berth: `/run/berth` for root, else
 * `$XDG_RUNTIME_DIR/berth`, `/run/user/<uid>/berth`, or `$TMPDIR/berth-<uid>`.
 * The directory is created with mode 0700; an existing one must be a directory owned by `uid`.
 */
export async function runtimeStateRoot(
  options: { uid?: number; env?: Record<string, string | undefined> } = {},
): Promise<string> {
  const uid = options.uid ?? process.getuid?.() ?? 0;
  const env = options.env ?? process.env;
  let dir: string;
  if (uid === 0) dir = '/run/berth';
  else if (env.XDG_RUNTIME_DIR && (await isWritableDir(env.XDG_RUNTIME_DIR)))
    dir = path.join(env.XDG_RUNTIME_DIR, 'berth');
  else if (await isWritableDir(`/run/user/${uid}`)) dir = `/run/user/${uid}/berth`;
  else dir = path.join(env.TMPDIR || os.tmpdir(), `berth-${uid}`);
  await ensurePrivateDir(dir, uid);
  return dir;
}

/** Creates `dir` (mode 0700) or checks that it is a directory owned by `uid`, tightening its mode. */
export async function ensurePrivateDir(dir: string, uid: number): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await lstat(dir);
    if (!st.isDirectory()) throw new Error('not a directory');
    if (st.uid !== uid) throw new Error(`owned by uid ${st.uid}, not ${uid}`);
    if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700);
  } catch (cause) {
    throw new RuntimeError(
      'ERR_RUNTIME_STATE_DIR',
      `cannot use runtime state directory "${dir}": ${(cause as Error).message}`,
      {
        hint: 'remove it or set XDG_RUNTIME_DIR to a private directory of yours',
        cause,
      },
    );
  }
}

/** Global flags for every call of `runtime`: the state root, and no cgroup manager for rootless crun. */
export function globalArgs(
  runtime: Runtime,
  options: { root: string; rootless: boolean },
): string[] {
  const args = ['--root', options.root];
  if (runtime.name === 'crun' && options.rootless) args.push('--cgroup-manager=disabled');
  return args;
}
