import path from 'node:path';
import { parseOptions } from '@berth-oci/errors';
import {
  ContainerIdSchema,
  type ContainerRecord,
  ContainerStore,
  checkBundle,
  findRuntime,
  globalArgs,
  isAlive,
  LOG_FORMATS,
  removeContainer,
  type StoredContainer,
} from '@berth-oci/runtime-ops';
import * as v from 'valibot';
import { conmonFiles } from './args.js';
import {
  type ConmonContainer,
  createContainer,
  logTargets,
  removeConmonFiles,
  waitForExit,
} from './create.js';
import { convertLogFile, waitForLogFollower } from './log.js';
import { checkWritablePath } from './user-paths.js';

export const CreateOciContainerOptionsSchema = v.strictObject({
  /** The user's container store (`ContainerStore.open`). */
  store: v.custom<ContainerStore>((s) => s instanceof ContainerStore, 'a ContainerStore'),
  /** The new container's id (unique in the store). */
  id: ContainerIdSchema,
  /** The bundle directory (made absolute); it must hold a `config.json`. */
  bundle: v.string(),
  /** crun, runc or a path (default: `BERTH_RUNTIME` of `env`, then crun, then runc). */
  runtime: v.optional(v.string()),
  /** Environment for finding the runtime (`BERTH_RUNTIME`, `PATH`; default: process.env). */
  env: v.optional(v.record(v.string(), v.optional(v.string()))),
  /** conmon, a name or a path (default `conmon`). */
  conmon: v.optional(v.string()),
  /** The container's output log (made absolute; default: in its state directory). */
  logPath: v.optional(v.string()),
  /** `k8s-file` (conmon's own format) or `json` (JSON lines, converted when it exits). */
  logFormat: v.optional(v.picklist(LOG_FORMATS), 'k8s-file'),
  /** Also write the container's pid to this file (made absolute). */
  pidFile: v.optional(v.string()),
});
export type CreateOciContainerOptions = v.InferInput<typeof CreateOciContainerOptionsSchema>;

/** A container just created under conmon and recorded in its store (status `created`). */
export interface OciContainer extends StoredContainer {
  /** The conmon that monitors it: `wait()` for its exit, or `release()` to let this process go. */
  conmon: ConmonContainer;
}

/**
 * Creates a container under conmon and records it in the store: reserves its state directory
 * (and, for an ordinary user, makes sure the namespace holder runs), takes the bundle, runs
 * conmon and saves the record with conmon's and the container's pids. A log file or pid file
 * this process may not write is refused first (ERR_CONMON_PATH, naming it). On failure nothing
 * is left: the bundle is free again and the state directory gone. Start it with
 * `startContainer(container.ctx, id)`; call `container.conmon.release()` if this process
 * should exit while the container lives on.
 */
export async function createOciContainer(
  options: CreateOciContainerOptions,
): Promise<OciContainer> {
  const o = parseOptions(CreateOciContainerOptionsSchema, options, 'container options');
  const { store, id } = o;
  const { bundle, terminal } = await checkBundle(o.bundle);
  const runtime = await findRuntime({ runtime: o.runtime, env: o.env });
  const logPath = o.logPath ? path.resolve(o.logPath) : undefined;
  const pidFile = o.pidFile ? path.resolve(o.pidFile) : undefined;
  if (logPath) await checkWritablePath(logPath, 'log file');
  if (pidFile) await checkWritablePath(pidFile, 'pid file');
  const { dir, userns, prefix } = await store.reserveWithHolder(id);
  try {
    await store.lockBundle(bundle, id);
    try {
      const ctx = await store.contextForNew(runtime, prefix, id);
      const logs = logTargets({ stateDir: dir, id, logPath, logFormat: o.logFormat });
      const record: ContainerRecord = {
        id,
        bundle,
        runtime,
        rootless: store.rootless,
        created: new Date().toISOString(),
        userns,
        terminal,
        log: { path: logs.json ?? logs.k8s, format: o.logFormat },
        pidFile,
      };
      await store.save(record);
      const conmon = await createContainer({
        id,
        bundle,
        stateDir: dir,
        runtimePath: runtime.path,
        runtimeArgs: globalArgs(runtime, ctx),
        prefix: ctx.prefix,
        terminal,
        logPath,
        logFormat: o.logFormat,
        pidFile: record.pidFile,
        conmon: o.conmon,
      });
      record.conmonPid = conmon.conmonPid;
      record.pid = conmon.pid;
      await store.save(record);
      return { store, record, ctx, conmon };
    } catch (e) {
      await store.unlockBundle(bundle, id);
      throw e;
    }
  } catch (e) {
    await store.remove(id);
    await store.releaseHolderIfIdle();
    throw e;
  }
}

export const WaitForOciExitOptionsSchema = v.strictObject({
  /** Give up after this long (default 5 s). */
  timeoutMs: v.optional(v.pipe(v.number(), v.minValue(0)), 5000),
});
export type WaitForOciExitOptions = v.InferInput<typeof WaitForOciExitOptionsSchema>;

/**
 * Waits (up to `timeoutMs`, default 5 s) for a container created by `createOciContainer`, in
 * this process or another, to exit; its exit status, or undefined when none was written.
 */
export function waitForOciExit(
  container: StoredContainer,
  options: WaitForOciExitOptions = {},
): Promise<number | undefined> {
  const o = parseOptions(WaitForOciExitOptionsSchema, options, 'wait options');
  const { store, record } = container;
  return waitForExit(conmonFiles(store.containerDir(record.id), record.id), {
    conmonPid: record.conmonPid,
    timeoutMs: o.timeoutMs,
  });
}

export const DeleteOciContainerOptionsSchema = v.strictObject({
  /** Delete a running or paused container too (killed first). */
  force: v.optional(v.boolean(), false),
});
export type DeleteOciContainerOptions = v.InferInput<typeof DeleteOciContainerOptionsSchema>;

/**
 * Deletes a container made by `createOciContainer` (`removeContainer` of runtime-ops, `force`
 * as there) and conmon's part of it: waits for conmon to write the exit status and exit
 * (SIGKILL after 5 s), writes the JSON log if it was asked for, and removes conmon's files
 * from the bundle.
 */
export async function deleteOciContainer(
  container: StoredContainer,
  options: DeleteOciContainerOptions = {},
): Promise<void> {
  const o = parseOptions(DeleteOciContainerOptionsSchema, options, 'delete options');
  const { store, record } = container;
  await removeContainer(container, {
    force: o.force,
    afterDelete: async () => {
      const files = conmonFiles(store.containerDir(record.id), record.id);
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
        await waitForLogFollower(files.logFollowerPid);
        await convertLogFile(files.log, record.log.path).catch(() => {});
      }
      await removeConmonFiles(record.bundle);
    },
  });
}
