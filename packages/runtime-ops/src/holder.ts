import { spawn } from 'node:child_process';
import { readFile, readlink, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as v from 'valibot';
import { RuntimeError } from './errors.js';
import { CGROUP_MASK_PATH } from './host.js';
import { isAlive, withProcessLock } from './lock.js';

/**
 * The namespace holder: one long-lived process per user, in a user namespace (the outer map:
 * the user as 0, the subordinate ids as 1..N) and a mount namespace in which a tmpfs hides the
 * hybrid host's cgroup2 mount. Every rootless runtime call joins it with `nsenter`, so that
 * containers are children of one namespace: `exec` works for crun (a sibling namespace has no
 * rights over the container's), and runc accepts the multi-range maps of berth bundles (it
 * refuses them outside such a namespace). See docs/runtime-protocols.md, "The namespace holder".
 */
export const HolderInfoSchema = v.object({
  pid: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /** Start time of the process (field 22 of /proc/PID/stat): guards against pid reuse. */
  starttime: v.string(),
  /** `user:[inode]` of its user namespace. */
  userns: v.string(),
  /** The `unshare` user-mapping arguments it was started with. */
  userArgs: v.array(v.string()),
});
export type HolderInfo = v.InferOutput<typeof HolderInfoSchema>;

export const HOLDER_FILE = 'holder.json';
export const HOLDER_LOCK_FILE = 'holder.lock';

/** The shell script of the holder; `$1` = 1 masks the cgroup2 mount. Prints `ready`, then sleeps. */
const HOLDER_SCRIPT = [
  `if [ "$1" = 1 ]; then mount -t tmpfs -o size=4k,mode=0755 tmpfs ${CGROUP_MASK_PATH} || exit 255; fi`,
  'echo ready',
  'exec sleep infinity </dev/null >/dev/null 2>&1',
].join('\n');

/** The argv that starts a holder (before spawning). */
export function holderArgv(userArgs: string[], maskCgroup: boolean): string[] {
  return [
    'unshare',
    ...userArgs,
    '--mount',
    '--propagation',
    'slave',
    '--',
    '/bin/sh',
    '-c',
    HOLDER_SCRIPT,
    'berth-holder',
    maskCgroup ? '1' : '0',
  ];
}

/** The argv prefix that runs a command in the namespaces of process `pid`. */
export function nsenterPrefix(pid: number): string[] {
  return ['nsenter', '-t', String(pid), '-U', '-m', '--preserve-credentials', '--'];
}

/**
 * The argv prefix for root crun on a hybrid-cgroup host: a private mount namespace per call with
 * a tmpfs over the cgroup2 mount (docs/runtime-protocols.md, "Hosts with hybrid cgroups").
 */
export function cgroupMaskPrefix(): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'slave',
    '--',
    '/bin/sh',
    '-c',
    `mount -t tmpfs -o size=4k,mode=0755 tmpfs ${CGROUP_MASK_PATH} || { echo "berth: cannot hide ${CGROUP_MASK_PATH} for crun" >&2; exit 255; }; exec "$@"`,
    'berth-cgroup-mask',
  ];
}

/** `user:[inode]` of the user namespace of `pid`, or undefined when it cannot be read. */
export async function usernsOf(pid: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/ns/user`);
  } catch {
    return undefined;
  }
}

/** The start time of `pid` (in clock ticks since boot), or undefined when it is gone. */
export async function startTimeOf(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: fields follow the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True when `info` still names the same live process in the same user namespace. */
export async function holderAlive(info: HolderInfo): Promise<boolean> {
  if (!isAlive(info.pid)) return false;
  if ((await startTimeOf(info.pid)) !== info.starttime) return false;
  return (await usernsOf(info.pid)) === info.userns;
}

/** The recorded holder in `dir` if it is alive, else undefined. */
export async function findHolder(dir: string): Promise<HolderInfo | undefined> {
  let info: HolderInfo;
  try {
    const parsed = v.safeParse(
      HolderInfoSchema,
      JSON.parse(await readFile(path.join(dir, HOLDER_FILE), 'utf8')),
    );
    if (!parsed.success) return undefined;
    info = parsed.output;
  } catch {
    return undefined;
  }
  return (await holderAlive(info)) ? info : undefined;
}

/** Starts a holder process (detached, in its own session) and waits until its mounts are ready. */
export async function startHolder(userArgs: string[], maskCgroup: boolean): Promise<HolderInfo> {
  const [file, ...args] = holderArgv(userArgs, maskCgroup) as [string, ...string[]];
  const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
  });
  child.stderr.on('data', (d: string) => {
    err += d;
  });
  const ready = await new Promise<boolean>((resolve) => {
    child.once('error', (e) => {
      err += e.message;
      resolve(false);
    });
    child.once('exit', () => resolve(false));
    child.stdout.on('data', () => {
      if (out.includes('ready\n')) resolve(true);
    });
  });
  child.stdout.destroy();
  child.stderr.destroy();
  child.unref();
  const pid = child.pid;
  if (!ready || pid === undefined) {
    throw new RuntimeError(
      'ERR_RUNTIME_HOLDER',
      `cannot start the namespace holder: ${err.trim() || 'it exited at once'}`,
      {
        hint: 'check that unshare (util-linux) and newuidmap/newgidmap (uidmap) are installed, and your /etc/subuid and /etc/subgid entries',
      },
    );
  }
  const [starttime, userns] = await Promise.all([startTimeOf(pid), usernsOf(pid)]);
  if (starttime === undefined || userns === undefined) {
    throw new RuntimeError('ERR_RUNTIME_HOLDER', `the namespace holder (pid ${pid}) died at once`);
  }
  return { pid, starttime, userns, userArgs };
}

/**
 * The live holder of `dir`, started when there is none. Call it holding `dir/holder.lock`
 * (`withHolderLock`), so that two processes never start two holders.
 */
export async function ensureHolder(
  dir: string,
  options: { userArgs: string[]; maskCgroup: boolean },
): Promise<HolderInfo> {
  const found = await findHolder(dir);
  if (found) return found;
  const info = await startHolder(options.userArgs, options.maskCgroup);
  await writeFile(path.join(dir, HOLDER_FILE), `${JSON.stringify(info)}\n`, { mode: 0o600 });
  return info;
}

/** Stops the holder of `dir` (if alive) and removes its record. Call it holding the lock. */
export async function stopHolder(dir: string): Promise<void> {
  const info = await findHolder(dir);
  if (info) {
    try {
      process.kill(info.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  await rm(path.join(dir, HOLDER_FILE), { force: true });
}

/** Runs `fn` holding the holder lock of `dir`. */
export function withHolderLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  return withProcessLock(path.join(dir, HOLDER_LOCK_FILE), fn);
}
