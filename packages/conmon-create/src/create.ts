import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parseOptions } from '@berth-oci/errors';
import { isAlive, which } from '@berth-oci/runtime-ops';
import * as v from 'valibot';
import { type ConmonFiles, conmonArgs, conmonFiles } from './args.js';
import { ConmonError } from './errors.js';
import { LOG_CONVERTER_NODE_ARGS, LOG_CONVERTER_PATH, parseRuntimeLog } from './log.js';
import { parseSyncMessage } from './sync.js';

const Abs = v.pipe(v.string(), v.startsWith('/'));

export const CreateContainerOptionsSchema = v.strictObject({
  /** Container id. */
  id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)),
  /** Absolute bundle path (conmon makes `attach`, `ctl` and `winsz` in it). */
  bundle: Abs,
  /** Absolute directory for conmon's files (pid, exit, logs); created when missing. */
  stateDir: Abs,
  /** Absolute path of crun or runc. */
  runtimePath: Abs,
  /** Global runtime flags (`--root R`, ...), passed as `--runtime-arg`. */
  runtimeArgs: v.optional(v.array(v.string()), []),
  /** argv that conmon is started through, e.g. `nsenter -t PID -U -m --`. */
  prefix: v.optional(v.array(v.string()), []),
  /** conmon binary, a name or a path (default: `conmon` on PATH and the system directories). */
  conmon: v.optional(v.string()),
  /** The bundle's `process.terminal`: conmon `-t` (a pty), else `-i` (a stdin pipe). */
  terminal: v.boolean(),
  /** Where the container's output is logged (default `<stateDir>/container.log`). */
  logPath: v.optional(Abs),
  /** `k8s-file` (conmon's own) or `json` (JSON lines written when the container exits). */
  logFormat: v.optional(v.picklist(['k8s-file', 'json']), 'k8s-file'),
  /** Also write the container's pid here. */
  pidFile: v.optional(Abs),
  /** How long to wait for the runtime's `create` (default 30 s, as SingularityCE). */
  timeoutMs: v.optional(v.pipe(v.number(), v.minValue(1)), 30_000),
  /** conmon's environment (default: PATH and TMPDIR of this process). */
  env: v.optional(v.record(v.string(), v.optional(v.string()))),
});
export type CreateContainerOptions = v.InferInput<typeof CreateContainerOptionsSchema>;

/** A container created (status `created`) under a daemonized conmon. */
export interface ConmonContainer {
  id: string;
  /** The container's init pid. */
  pid: number;
  /** The daemonized conmon. */
  conmonPid: number;
  files: ConmonFiles;
  /**
   * Resolves when conmon exits (the container has exited and its exit file is written), with
   * the container's exit status, or undefined when conmon wrote none. Only while not released.
   */
  wait(): Promise<number | undefined>;
  /** Lets go of conmon's sync pipe so this process may exit while the container lives on. */
  release(): void;
}

/** The k8s-file that conmon writes, and the JSON log converted from it at exit (if any). */
export function logTargets(o: {
  stateDir: string;
  id: string;
  logPath?: string;
  logFormat?: 'k8s-file' | 'json';
}): { k8s: string; json?: string } {
  const files = conmonFiles(o.stateDir, o.id);
  if (o.logFormat === 'json') return { k8s: files.log, json: o.logPath ?? `${files.log}.json` };
  return { k8s: o.logPath ?? files.log };
}

const minimalEnv = () => {
  const env: Record<string, string> = {
    PATH: process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  return env;
};

/**
 * The conmon binary: `conmon` (a name or a path; default `conmon`) searched like the runtimes.
 * Throws ERR_CONMON_NOT_FOUND naming what was looked for.
 */
export async function findConmon(conmon = 'conmon'): Promise<string> {
  const hint = 'install it (apt-get install conmon), or name it with BERTH_CONMON';
  if (conmon.includes('/')) {
    const file = path.resolve(conmon);
    try {
      await access(file, constants.X_OK);
      if ((await stat(file)).isFile()) return file;
    } catch {
      // reported below
    }
    throw new ConmonError(
      'ERR_CONMON_NOT_FOUND',
      `conmon "${file}" does not exist or is not executable`,
      {
        hint,
      },
    );
  }
  const found = await which(conmon);
  if (found === undefined) {
    throw new ConmonError('ERR_CONMON_NOT_FOUND', `conmon ("${conmon}") is not installed`, {
      hint,
    });
  }
  return found;
}

/** Reads an exit file: the status, or undefined when missing or not a number. */
export async function readExitStatus(file: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isNaN(n) ? undefined : n;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the container's exit file appears (or conmon is gone, or `timeoutMs` passes) and
 * returns the status in it. For processes that do not hold conmon's sync pipe (attach, delete).
 */
export async function waitForExit(
  files: ConmonFiles,
  options: { conmonPid?: number; timeoutMs?: number } = {},
): Promise<number | undefined> {
  const end = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const status = await readExitStatus(files.exitFile);
    if (status !== undefined) return status;
    if (options.conmonPid !== undefined && !isAlive(options.conmonPid)) {
      return readExitStatus(files.exitFile);
    }
    if (Date.now() > end) return undefined;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Reads one `\n`-terminated line from `stream`; undefined at EOF; rejects after `ms`. */
function readLine(stream: Readable, ms: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (fn: () => void) => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onEnd);
      fn();
    };
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        stream.pause();
        done(() => resolve(buf.slice(0, nl)));
      }
    };
    const onEnd = () => done(() => resolve(buf.trim() === '' ? undefined : buf));
    const timer = setTimeout(() => done(() => reject(new Error('timeout'))), ms);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', onEnd);
  });
}

/**
 * Creates a container under conmon (docs/runtime-protocols.md, "Starting conmon"): spawns
 * conmon with a sync and a start fd, sends the start byte, waits for the first conmon process
 * to daemonize and for the sync message with the init pid. On failure the runtime's own message
 * (from the sync line or the runtime's JSON log) is thrown as ERR_CONMON_CREATE, leftovers in
 * the bundle are removed and the half-made container is deleted. The container is `created`;
 * start it with the runtime. With `logFormat: 'json'` a detached helper (`log-convert.js
 * --follow`) keeps the JSON log current until the container exits.
 */
export async function createContainer(options: CreateContainerOptions): Promise<ConmonContainer> {
  const o = parseOptions(CreateContainerOptionsSchema, options, 'create options');
  const conmonPath = await findConmon(o.conmon);
  const files = conmonFiles(o.stateDir, o.id);
  const logs = logTargets(o);
  if (logs.json) {
    // a packaging fault, not the user's: the helper entry must ship next to this module
    await access(LOG_CONVERTER_PATH).catch((cause: unknown) => {
      throw new Error(`berth's log converter is missing: ${LOG_CONVERTER_PATH}`, { cause });
    });
  }
  await mkdir(files.exitDir, { recursive: true, mode: 0o700 });
  await mkdir(files.persistDir, { recursive: true, mode: 0o700 });
  const args = conmonArgs({
    id: o.id,
    uuid: randomUUID(),
    runtimePath: o.runtimePath,
    runtimeArgs: o.runtimeArgs,
    bundle: o.bundle,
    stateDir: o.stateDir,
    logPath: `k8s-file:${logs.k8s}`,
    stdio: o.terminal ? 'terminal' : 'stdin',
  });
  const [file, ...rest] = [...o.prefix, conmonPath, ...args] as [string, ...string[]];
  const child: ChildProcess = spawn(file, rest, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: {
      ...(o.env ? (o.env as Record<string, string>) : minimalEnv()),
      _OCI_SYNCPIPE: '3',
      _OCI_STARTPIPE: '4',
    },
    cwd: o.stateDir,
    detached: true,
  });
  const sync = child.stdio[3] as Readable;
  const start = child.stdio[4] as Writable;
  let output = '';
  for (const s of [child.stdout, child.stderr]) {
    s?.setEncoding('utf8');
    s?.on('data', (d: string) => {
      output += d;
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (e) => {
      output += e.message;
      resolve(-1);
    });
  });
  // read the sync pipe from the start: once the first conmon exits, Node drains unread pipes
  const syncLine = readLine(sync, o.timeoutMs);
  syncLine.catch(() => {});
  start.on('error', () => {});
  start.end(Buffer.from([0]));

  const cleanup = async () => {
    sync.destroy();
    child.unref();
    await removeConmonFiles(o.bundle);
    // a create that failed half-way may have left the container in the runtime
    const argv = [...o.prefix, o.runtimePath, ...o.runtimeArgs, 'delete', '--force', o.id];
    const del = spawn(argv[0] as string, argv.slice(1), { stdio: 'ignore' });
    await new Promise((r) => {
      del.once('exit', r);
      del.once('error', r);
    });
  };

  const code = await exited;
  if (code !== 0) {
    await cleanup();
    const text = output.trim().replace(/^\[conmon:[a-z]\]:? */gm, '');
    throw new ConmonError(
      'ERR_CONMON_START',
      `conmon failed to start container "${o.id}": ${text || `exit status ${code}`}`,
      { hint: 'run again with --debug; check that conmon 2.1 or later is installed' },
    );
  }
  let line: string | undefined;
  try {
    line = await syncLine;
  } catch {
    const pid = await readPid(files.conmonPid);
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await cleanup();
    throw new ConmonError(
      'ERR_CONMON_TIMEOUT',
      `creating container "${o.id}" timed out after ${Math.round(o.timeoutMs / 1000)} s`,
      { hint: 'the runtime did not answer; check the bundle and the runtime' },
    );
  }
  const runtimeLog = async () =>
    parseRuntimeLog(await readFile(files.runtimeLog, 'utf8').catch(() => ''));
  if (line === undefined) {
    const msg = await runtimeLog();
    await cleanup();
    throw new ConmonError(
      'ERR_CONMON_CREATE',
      `cannot create container "${o.id}": ${msg ?? 'conmon exited without a report (an internal conmon error)'}`,
      { hint: `check the bundle ${o.bundle}` },
    );
  }
  const msg = parseSyncMessage(line);
  if (!msg.ok) {
    const detail = (await runtimeLog()) ?? msg.message;
    await waitForSyncEnd(sync, 2000);
    await cleanup();
    throw new ConmonError('ERR_CONMON_CREATE', `cannot create container "${o.id}": ${detail}`, {
      hint: `check the bundle ${o.bundle} and its config.json`,
    });
  }
  const conmonPid = (await readPid(files.conmonPid)) ?? 0;
  if (o.pidFile) {
    try {
      await writeFile(o.pidFile, String(msg.pid));
    } catch (e) {
      await cleanup();
      throw new ConmonError(
        'ERR_CONMON_PATH',
        `cannot write the pid file "${o.pidFile}": ${(e as Error).message}`,
        { hint: 'choose a pid file in a directory you may write to', cause: e },
      );
    }
  }
  if (logs.json) await startLogFollower(logs.k8s, logs.json, files, conmonPid);
  let released = false;
  const ended = waitForSyncEnd(sync);
  return {
    id: o.id,
    pid: msg.pid,
    conmonPid,
    files,
    wait: async () => {
      if (released) return waitForExit(files, { conmonPid });
      await ended;
      return readExitStatus(files.exitFile);
    },
    release: () => {
      released = true;
      sync.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.unref();
    },
  };
}

/**
 * Starts the helper that keeps the JSON log up to date while the container runs (detached; it
 * outlives this process). Its pid goes to `files.logFollowerPid`, which it removes when done.
 */
async function startLogFollower(
  from: string,
  to: string,
  files: ConmonFiles,
  conmonPid: number,
): Promise<void> {
  const args = [
    ...LOG_CONVERTER_NODE_ARGS,
    LOG_CONVERTER_PATH,
    '--follow',
    from,
    to,
    files.exitFile,
    String(conmonPid),
  ];
  const child = spawn(process.execPath, [...args, files.logFollowerPid], {
    detached: true,
    stdio: 'ignore',
    cwd: '/',
  });
  child.on('error', () => {});
  child.unref();
  if (child.pid !== undefined) await writeFile(files.logFollowerPid, String(child.pid));
}

function waitForSyncEnd(sync: Readable, ms?: number): Promise<void> {
  return new Promise((resolve) => {
    if (sync.destroyed || sync.readableEnded) return resolve();
    const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
    const done = () => {
      if (timer) clearTimeout(timer);
      resolve();
    };
    sync.once('end', done);
    sync.once('close', done);
    sync.resume();
  });
}

async function readPid(file: string): Promise<number | undefined> {
  const n = await readExitStatus(file);
  return n !== undefined && n > 0 ? n : undefined;
}

/** The files conmon leaves in a bundle: the attach socket and the ctl/winsz FIFOs. */
export const CONMON_BUNDLE_FILES = ['attach', 'ctl', 'winsz'] as const;

/** Removes conmon's files from a bundle (after a failed create, or once the container is deleted). */
export async function removeConmonFiles(bundle: string): Promise<void> {
  for (const name of CONMON_BUNDLE_FILES) await rm(path.join(bundle, name), { force: true });
}
