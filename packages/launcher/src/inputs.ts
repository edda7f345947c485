/**
 * The files and directories a launch's options name on the host, read and checked before the
 * image is opened: `--overlay` directories, cgroup limits (`--apply-cgroups`), `--workdir` and
 * `--env-file`. Each failure is a user error naming the path.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { LinuxResources } from '@berth-oci/bundle-spec';
import { cgroupResources } from './cgroups.js';
import { readEnvFile } from './env-file.js';
import { LaunchError } from './errors.js';
import { isPermissionError, pathProblem } from './fs-errors.js';
import type { ResolvedLaunchOptions } from './options.js';
import { type OverlayPlan, planOverlays } from './overlay.js';

export interface LaunchInputs {
  overlays: OverlayPlan;
  resources: LinuxResources | undefined;
  /** `--workdir`, absolute, an existing directory. */
  workdir: string | undefined;
  /** The `--env-file` variables, file by file. */
  envFiles: Map<string, string>[];
}

export async function readInputs(
  opts: ResolvedLaunchOptions,
  cwd: string,
  env: Record<string, string | undefined>,
): Promise<LaunchInputs> {
  const overlays = await planOverlays(opts.overlays, cwd);
  const resources = await cgroupResources({
    limits: opts.limits,
    applyCgroups: opts.applyCgroups,
  });
  const workdir =
    opts.workdir === undefined ? undefined : await checkWorkdir(path.resolve(cwd, opts.workdir));
  const fileEnv = { ...env, BERTH_IMAGE: opts.image, SINGULARITY_IMAGE: opts.image };
  const envFiles: Map<string, string>[] = [];
  for (const f of opts.envFiles.flatMap((x) => x.split(','))) {
    if (f === '') {
      throw new LaunchError('ERR_LAUNCH_ENV_FILE', 'env-file names an empty path', {
        hint: 'give --env-file FILE (comma-separated files need a name between the commas)',
      });
    }
    envFiles.push(await readEnvFile(path.resolve(cwd, f), fileEnv));
  }
  return { overlays, resources, workdir, envFiles };
}

async function checkWorkdir(workdir: string): Promise<string> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(workdir);
  } catch (cause) {
    throw new LaunchError('ERR_LAUNCH_WORKDIR', `workdir "${workdir}" ${pathProblem(cause)}`, {
      hint: isPermissionError(cause)
        ? 'give a directory you may enter, or fix the permissions of its parents'
        : 'create it first: mkdir -p DIR',
      cause,
    });
  }
  if (st.isDirectory()) return workdir;
  throw new LaunchError('ERR_LAUNCH_WORKDIR', `workdir "${workdir}" is not a directory`, {
    hint: 'create it first: mkdir -p DIR',
  });
}
