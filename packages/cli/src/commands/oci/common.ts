import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  type ConmonContainer,
  conmonFiles,
  convertLogFile,
  createContainer,
  logTargets,
  removeConmonFiles,
  waitForExit,
} from '@berth-oci/conmon-create';
import { hostUser, planUserns, unshareUserArgs } from '@berth-oci/launcher';
import {
  type ContainerRecord,
  type ContainerState,
  type ContainerStatus,
  ContainerStore,
  containerState,
  deleteContainer,
  findRuntime,
  globalArgs,
  isAlive,
  type LogFormat,
  type RuntimeContext,
  RuntimeError,
} from '@berth-oci/runtime-ops';
import type { Io } from '../../render.js';

/** Opens the user's container store; for an ordinary user, with the holder's id maps. */
export async function openStore(io: Io): Promise<ContainerStore> {
  const user = await hostUser();
  if (user.uid === 0) return ContainerStore.open({ uid: 0, env: io.env });
  const plan = await planUserns(user, true);
  return ContainerStore.open({ uid: user.uid, env: io.env, userArgs: unshareUserArgs(plan) });
}

/** A container of the store with how to reach its runtime. */
export interface Loaded {
  store: ContainerStore;
  record: ContainerRecord;
  ctx: RuntimeContext;
}

export async function loadContainer(io: Io, id: string): Promise<Loaded> {
  const store = await openStore(io);
  const record = await store.load(id);
  const ctx = await store.contextFor(record);
  return { store, record, ctx };
}

/** The container's state; throws ERR_RUNTIME_CONTAINER_STATE unless its status is one of `allowed`. */
export async function requireStatus(
  loaded: Loaded,
  allowed: ContainerStatus[],
  action: string,
  hint?: string,
): Promise<ContainerState> {
  const state = await containerState(loaded.ctx, loaded.record.id);
  if (!allowed.includes(state.status)) {
    throw new RuntimeError(
      'ERR_RUNTIME_CONTAINER_STATE',
      `cannot ${action} container "${loaded.record.id}": it is ${state.status}`,
      { hint: hint ?? `it must be ${allowed.join(' or ')}` },
    );
  }
  return state;
}

/** Checks the bundle: a directory with a config.json; returns its absolute path and `process.terminal`. */
export async function checkBundle(
  bundleArg: string,
): Promise<{ bundle: string; terminal: boolean }> {
  const bundle = path.resolve(bundleArg);
  const st = await stat(bundle).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new RuntimeError(
      'ERR_RUNTIME_BUNDLE',
      `bundle "${bundle}" ${st ? 'is not a directory' : 'does not exist'}`,
      { hint: 'make one with berth oci mount IMAGE BUNDLE' },
    );
  }
  const configPath = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch {
    throw new RuntimeError('ERR_RUNTIME_BUNDLE', `bundle "${bundle}" has no config.json`, {
      hint: 'make one with berth oci mount IMAGE BUNDLE, or runc spec',
    });
  }
  let config: { process?: { terminal?: unknown } };
  try {
    config = JSON.parse(text) as typeof config;
  } catch (cause) {
    throw new RuntimeError('ERR_RUNTIME_BUNDLE', `"${configPath}" is not valid JSON`, { cause });
  }
  return { bundle, terminal: config.process?.terminal === true };
}

export interface CreateArgs {
  id: string;
  bundle: string;
  runtime?: string;
  logPath?: string;
  logFormat?: string;
  pidFile?: string;
}

/** `kubernetes` is SingularityCE's name for conmon's k8s-file format. */
export function logFormatOf(value: string | undefined): LogFormat {
  const v = (value ?? 'k8s-file').trim();
  if (v === 'k8s-file' || v === 'kubernetes' || v === 'k8s') return 'k8s-file';
  if (v === 'json') return 'json';
  throw new RuntimeError('ERR_RUNTIME_BUNDLE', `unknown log format "${value}"`, {
    hint: 'use --log-format k8s-file (kubernetes) or json',
  });
}

/**
 * Creates a container under conmon: reserves its state directory (and the holder, rootless),
 * locks the bundle, runs conmon and records the container. On failure nothing is left.
 */
export async function createOciContainer(
  io: Io,
  a: CreateArgs,
): Promise<{
  store: ContainerStore;
  record: ContainerRecord;
  ctx: RuntimeContext;
  created: ConmonContainer;
}> {
  const { bundle, terminal } = await checkBundle(a.bundle);
  const logFormat = logFormatOf(a.logFormat);
  const runtime = await findRuntime({ runtime: a.runtime, env: io.env });
  const store = await openStore(io);
  const { dir, userns, prefix } = await store.reserveWithHolder(a.id);
  try {
    await store.lockBundle(bundle, a.id);
    try {
      const ctx = await store.contextForNew(runtime, prefix, a.id);
      const logPath = a.logPath ? path.resolve(a.logPath) : undefined;
      const logs = logTargets({ stateDir: dir, id: a.id, logPath, logFormat });
      const record: ContainerRecord = {
        id: a.id,
        bundle,
        runtime,
        rootless: store.rootless,
        created: new Date().toISOString(),
        userns,
        terminal,
        log: { path: logs.json ?? logs.k8s, format: logFormat },
        pidFile: a.pidFile ? path.resolve(a.pidFile) : undefined,
      };
      await store.save(record);
      const created = await createContainer({
        id: a.id,
        bundle,
        stateDir: dir,
        runtimePath: runtime.path,
        runtimeArgs: globalArgs(runtime, ctx),
        prefix: ctx.prefix,
        terminal,
        logPath,
        logFormat,
        pidFile: record.pidFile,
        conmon: io.env.BERTH_CONMON || undefined,
      });
      record.conmonPid = created.conmonPid;
      record.pid = created.pid;
      await store.save(record);
      return { store, record, ctx, created };
    } catch (e) {
      await store.unlockBundle(bundle, a.id);
      throw e;
    }
  } catch (e) {
    await store.remove(a.id);
    await store.releaseHolderIfIdle();
    throw e;
  }
}

/**
 * Deletes a container: the runtime's `delete` (forced: SIGKILL first), waits for conmon, writes
 * a JSON log, removes conmon's files from the bundle, the bundle lock and the state directory,
 * and stops the holder after the last container.
 */
export async function deleteOciContainer(
  loaded: Loaded,
  options: { force?: boolean } = {},
): Promise<void> {
  const { store, record, ctx } = loaded;
  let state: ContainerState | undefined;
  try {
    state = await containerState(ctx, record.id);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_RUNTIME_NO_CONTAINER') throw e;
  }
  if (state) {
    if ((state.status === 'running' || state.status === 'paused') && !options.force) {
      throw new RuntimeError(
        'ERR_RUNTIME_CONTAINER_STATE',
        `cannot delete container "${record.id}": it is ${state.status}`,
        {
          hint: `stop it first (berth oci kill ${record.id} KILL), or use berth oci delete --force ${record.id}`,
        },
      );
    }
    await deleteContainer(ctx, record.id, { force: options.force || state.status !== 'stopped' });
  }
  const dir = store.containerDir(record.id);
  const files = conmonFiles(dir, record.id);
  if (record.conmonPid !== undefined) {
    await waitForExit(files, { conmonPid: record.conmonPid, timeoutMs: 5000 });
    const end = Date.now() + 5000;
    while (isAlive(record.conmonPid) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 20));
    if (isAlive(record.conmonPid)) {
      try {
        process.kill(record.conmonPid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  if (record.log.format === 'json') {
    await convertLogFile(files.log, record.log.path).catch(() => {});
  }
  await removeConmonFiles(record.bundle);
  await store.unlockBundle(record.bundle, record.id);
  await store.remove(record.id);
  await store.releaseHolderIfIdle();
}
