/**
 * The container process: the command an action runs, the identity it runs as (the plan's, or
 * the image's USER looked up in its /etc/passwd), and its capabilities.
 */
import { capabilitySet, normalizeCapabilities } from '@berth-oci/bundle-spec';
import { LaunchError } from './errors.js';
import { findPasswdUser, readImageFile } from './etc-files.js';

/** The command `shell` runs (as upstream, with berth's prompt). */
export const SHELL_ARGS = [
  '/bin/sh',
  '-c',
  "export PS1='Berth> '; test -x /bin/bash && exec /bin/bash --norc || exec /bin/sh",
];

/**
 * The process arguments for an action, as SingularityCE's OCI mode builds them: `shell` runs
 * SHELL_ARGS, `exec` the given command, `run` the image's Entrypoint followed by the given
 * arguments or, without any, by its Cmd.
 */
export function processArgs(
  action: 'run' | 'exec' | 'shell',
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

/**
 * The uid and gid of the image's USER (`name`, `uid` or `uid:gid`), from the image's
 * /etc/passwd for a name.
 */
export async function resolveImageUser(
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

/** What decides the container's capabilities. */
export interface CapabilityInput {
  /** The uid the process runs as in the container (root gets the default set). */
  targetUid: number;
  /** `--no-privs`: none at all. */
  noPrivs: boolean;
  /** `--keep-privs`: start from the caller's (`callerCapabilities`). */
  keepPrivs: boolean;
  /** The caller's effective capabilities: this process's as root, ['ALL'] in a user namespace. */
  callerCapabilities: string[];
  addCaps: string[];
  dropCaps: string[];
  warn: (message: string) => void;
}

/** The process capabilities, as SingularityCE's OCI mode sets them; unknown names are warned of. */
export function processCapabilities(input: CapabilityInput): ReturnType<typeof capabilitySet> {
  const add = normalizeCapabilities(input.addCaps);
  const drop = normalizeCapabilities(input.dropCaps);
  if (add.unknown.length > 0) input.warn(`ignoring unknown --add-caps: ${add.unknown.join(',')}`);
  if (drop.unknown.length > 0)
    input.warn(`ignoring unknown --drop-caps: ${drop.unknown.join(',')}`);
  const base = input.noPrivs ? [] : input.keepPrivs ? input.callerCapabilities : undefined;
  return capabilitySet({ targetUid: input.targetUid, base, add: add.known, drop: drop.known });
}
