/**
 * The private bundle of a launch: a temporary directory under the runtime state root holding
 * `config.json`, the generated /etc files and the mount points of the rootfs overlay. Made
 * just before the run, removed after it (or after a failure), whatever happened.
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Spec, writeSpec } from '@berth-oci/bundle-spec';
import { LaunchError } from './errors.js';
import { prepareWritableOverlay } from './overlay.js';
import { makeOwnedBundle, releaseBundle } from './sweep.js';

/** Where the bundle of a dry run would be (nothing is made there). */
export const dryRunBundle = (stateRoot: string) => path.join(stateRoot, 'bundles', 'b-dry-run');

/**
 * Makes a new private bundle directory under `stateRoot`, locked for its life so that a later
 * launch sweeps it if this one dies without removing it (sweep.ts).
 */
export async function makeBundleDir(stateRoot: string): Promise<string> {
  await mkdir(path.join(stateRoot, 'bundles'), { recursive: true, mode: 0o700 });
  return makeOwnedBundle(path.join(stateRoot, 'bundles'));
}

export const removeBundleDir = (bundle: string) =>
  rm(bundle, { recursive: true, force: true }).finally(() => releaseBundle(bundle));

/** Fills a bundle: files, the spec, the rootfs and overlay mount points, and the host directories. */
export async function writeBundle(input: {
  bundle: string;
  spec: Spec;
  /** Files to write into the bundle (relative path → content). */
  files: Map<string, string | Buffer>;
  /** Host directories to create with mode 01777 (`--workdir`'s). */
  workdirDirs: string[];
  /** A writable `--overlay` directory, given `upper` and `work`. */
  writableOverlay: string | undefined;
}): Promise<void> {
  const b = input.bundle;
  await mkdir(path.join(b, 'etc'), { mode: 0o755 });
  for (const [name, content] of input.files) await writeFile(path.join(b, name), content);
  await makeWorkdirDirs(input.workdirDirs);
  if (input.writableOverlay) await prepareWritableOverlay(input.writableOverlay);
  await mkdir(path.join(b, 'rootfs'));
  await mkdir(path.join(b, 'overlay'));
  await writeSpec(b, input.spec);
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
