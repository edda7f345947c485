import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LaunchError } from './errors.js';
import { isPermissionError, pathProblem } from './fs-errors.js';

/** Characters overlayfs cannot take in a layer path. */
export const OVERLAY_UNSAFE = /[,:\\\n]/;

/** The overlay layers of a launch above the image rootfs. */
export interface OverlayPlan {
  /** Read-only layers, topmost first (each `DIR/upper` when it exists, else `DIR`). */
  lower: string[];
  /** The writable `--overlay` directory (its `upper` and `work` hold the changes), if any. */
  writable?: string;
}

const isDir = async (p: string) => {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Parses `--overlay DIR[:ro]` values as SingularityCE does: paths are made absolute against
 * `cwd` and must be existing directories; anything after the first `:` other than `ro` means
 * writable; at most one writable overlay; no directory twice. The first listed is on top.
 * Throws `ERR_LAUNCH_OVERLAY`.
 */
export async function planOverlays(
  values: string[],
  cwd: string = process.cwd(),
): Promise<OverlayPlan> {
  const plan: OverlayPlan = { lower: [] };
  const seen: string[] = [];
  const dups: string[] = [];
  for (const value of values) {
    const i = value.indexOf(':');
    const dir = path.resolve(cwd, i < 0 ? value : value.slice(0, i));
    const readonly = i >= 0 && value.slice(i + 1) === 'ro';
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(dir);
    } catch (cause) {
      throw new LaunchError(
        'ERR_LAUNCH_OVERLAY',
        `specified overlay "${dir}" ${pathProblem(cause)}`,
        {
          hint: isPermissionError(cause)
            ? 'give a directory you may enter, or fix the permissions of its parents'
            : 'create the directory first: mkdir -p DIR',
          cause,
        },
      );
    }
    if (!st.isDirectory()) {
      throw new LaunchError(
        'ERR_LAUNCH_OVERLAY',
        `overlay "${dir}" is not a directory: berth supports directory overlays only`,
        { hint: 'give a directory to --overlay' },
      );
    }
    if (OVERLAY_UNSAFE.test(dir)) {
      throw new LaunchError(
        'ERR_LAUNCH_OVERLAY',
        `overlay "${dir}" contains a character overlayfs cannot take (, : or \\)`,
        { hint: 'use a directory whose path has none of them' },
      );
    }
    if (seen.includes(dir)) {
      if (!dups.includes(dir)) dups.push(dir);
      continue;
    }
    seen.push(dir);
    if (readonly) {
      const upper = path.join(dir, 'upper');
      plan.lower.push((await isDir(upper)) ? upper : dir);
    } else if (plan.writable !== undefined) {
      throw new LaunchError(
        'ERR_LAUNCH_OVERLAY',
        `you can't specify more than one writable overlay; "${plan.writable}" has already been specified as a writable overlay; use '--overlay ${dir}:ro' instead`,
        { hint: `add :ro to all but one --overlay` },
      );
    } else plan.writable = dir;
  }
  if (dups.length > 0) {
    throw new LaunchError('ERR_LAUNCH_OVERLAY', `duplicate overlays detected: ${dups.join(', ')}`, {
      hint: 'give each overlay directory once',
    });
  }
  return plan;
}

/** Creates `upper` and `work` in the writable overlay directory (as the caller). */
export async function prepareWritableOverlay(dir: string): Promise<void> {
  try {
    await mkdir(path.join(dir, 'upper'), { recursive: true, mode: 0o755 });
    await mkdir(path.join(dir, 'work'), { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new LaunchError(
      'ERR_LAUNCH_OVERLAY',
      `cannot prepare the writable overlay "${dir}": ${(cause as NodeJS.ErrnoException).code ?? cause}`,
      { hint: 'the directory must be writable by you', cause },
    );
  }
}
