/**
 * The e2e harness: runs the built `berth` as a user would, as root and as an unprivileged
 * user that it creates (with subuid/subgid ranges), under crun and runc.
 */
import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BERTH = path.join(REPO, 'packages', 'cli', 'dist', 'cli.js');
export const E2E_USER = process.env.BERTH_E2E_USER ?? 'berth-e2e';
export const RUNTIMES = ['crun', 'runc'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/** Who runs berth: host root, the unprivileged user, or that user with --fakeroot. */
export type Profile = 'root' | 'user' | 'fakeroot';
export const PROFILES: Profile[] = ['root', 'user', 'fakeroot'];

export interface User {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export const isRoot = () => process.getuid?.() === 0;

/** Stops an e2e file that is not run as root: the harness creates the user it runs berth as. */
export function requireRoot(): void {
  if (isRoot()) return;
  console.error(
    'the e2e suite must run as root: it creates the unprivileged user it runs berth as',
  );
  process.exit(1);
}

function lookupUser(name: string): User | undefined {
  try {
    const line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
    const f = line.split(':');
    return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' };
  } catch {
    return undefined;
  }
}

function hasSubids(name: string, file: string): boolean {
  try {
    return execFileSync('cat', [file], { encoding: 'utf8' })
      .split('\n')
      .some((l) => l.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

/** The unprivileged user, created with subuid/subgid ranges when missing (needs root). */
export function ensureUser(): User {
  let user = lookupUser(E2E_USER);
  if (!user) {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', E2E_USER]);
    user = lookupUser(E2E_USER);
  }
  if (!user) throw new Error(`cannot create the e2e user ${E2E_USER}`);
  if (!hasSubids(E2E_USER, '/etc/subuid') || !hasSubids(E2E_USER, '/etc/subgid')) {
    execFileSync('usermod', [
      '--add-subuids',
      '300000-365535',
      '--add-subgids',
      '300000-365535',
      E2E_USER,
    ]);
  }
  return user;
}

/** A work directory every profile can read (0755), under /tmp. */
export async function workDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

let caches = 0;
/** A fresh, empty cache directory in `work` (0700) that the profile owns. */
export async function freshCache(work: string, profile: Profile, user: User): Promise<string> {
  const dir = path.join(work, `cache-${profile}-${++caches}`);
  await mkdir(dir, { mode: 0o700 });
  if (profile !== 'root') await chown(dir, user.uid, user.gid);
  return dir;
}

export interface RunOptions {
  profile: Profile;
  runtime: RuntimeName;
  user?: User;
  /** Cache directory per profile (the harness keeps them apart). */
  cacheDir: string;
  env?: Record<string, string>;
  input?: string;
  timeout?: number;
  /** Give berth a pseudo-terminal (through util-linux `script`), as an interactive shell has. */
  pty?: boolean;
  /** The berth program to run (an installed bin); default: `node` on the built dist/cli.js. */
  bin?: string;
}

const shellQuote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts `berth ARGS` for a profile; the spawned process is berth itself (setpriv execs it). */
export function startBerth(args: string[], o: RunOptions): ResultPromise {
  const fakeroot = o.profile === 'fakeroot';
  const berthArgs =
    args.length > 0 && fakeroot ? [args[0] as string, '--fakeroot', ...args.slice(1)] : args;
  const base = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    BERTH_RUNTIME: o.runtime,
    BERTH_CACHEDIR: o.cacheDir,
    ...o.env,
  };
  const common = {
    reject: false,
    stripFinalNewline: false,
    timeout: o.timeout ?? 60_000,
    input: o.input,
    stdin: o.input === undefined ? ('ignore' as const) : undefined,
    extendEnv: false,
  };
  let argv = o.bin ? [o.bin, ...berthArgs] : [process.execPath, BERTH, ...berthArgs];
  if (o.pty) {
    argv = [
      'script',
      '--quiet',
      '--return',
      '--command',
      argv.map(shellQuote).join(' '),
      '/dev/null',
    ];
  }
  if (o.profile === 'root') {
    return execa(argv[0] as string, argv.slice(1), {
      ...common,
      env: { ...base, HOME: '/root', USER: 'root' },
    });
  }
  const u = o.user as User;
  return execa(
    'setpriv',
    [`--reuid=${u.uid}`, `--regid=${u.gid}`, '--init-groups', '--', ...argv],
    {
      ...common,
      env: { ...base, HOME: u.home, USER: u.name, LOGNAME: u.name },
    },
  );
}

export async function berth(args: string[], o: RunOptions): Promise<Result> {
  const r = await startBerth(args, o);
  return {
    code: r.exitCode ?? (r.signal ? 128 : -1),
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
  };
}

/** Mounts of the host mount namespace whose mount point mentions `needle`. */
export async function hostMountsMatching(needle: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').filter((l) => l.split(' ')[4]?.includes(needle));
}

/** Pids of processes whose command line contains `needle`. */
export function pidsMatching(needle: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', needle], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((p) => p !== process.pid);
  } catch {
    return [];
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `f` returns a truthy value (or throws after `ms`). */
export async function waitFor<T>(
  f: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
