import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseOptions } from '@berth-oci/errors';
import * as v from 'valibot';
import { RuntimeError } from './errors.js';
import { containerState, deleteContainer, type RuntimeContext } from './ops.js';
import type { ContainerState, ContainerStatus } from './state.js';
import type { ContainerRecord, ContainerStore } from './store.js';

/** A container of a store, with how to reach its runtime. */
export interface StoredContainer {
  store: ContainerStore;
  record: ContainerRecord;
  ctx: RuntimeContext;
}

/** Loads container `id` of `store`; ERR_RUNTIME_NO_CONTAINER when there is none. */
export async function openContainer(store: ContainerStore, id: string): Promise<StoredContainer> {
  const record = await store.load(id);
  const ctx = await store.contextFor(record);
  return { store, record, ctx };
}

/**
 * Checks a bundle: a directory with a valid JSON `config.json`. Returns its absolute path and
 * whether its process wants a terminal. Throws ERR_RUNTIME_BUNDLE naming what is wrong.
 */
export async function checkBundle(
  bundleArg: string,
): Promise<{ bundle: string; terminal: boolean }> {
  const bundle = path.resolve(bundleArg);
  let statError: NodeJS.ErrnoException | undefined;
  const st = await stat(bundle).catch((e: NodeJS.ErrnoException) => {
    statError = e;
    return undefined;
  });
  if (statError?.code === 'EACCES') {
    throw new RuntimeError(
      'ERR_RUNTIME_BUNDLE',
      `bundle "${bundle}" cannot be reached: permission denied`,
      {
        hint: 'use a bundle in directories you may enter',
        cause: statError,
      },
    );
  }
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
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EACCES') {
      throw new RuntimeError(
        'ERR_RUNTIME_BUNDLE',
        `cannot read "${configPath}": permission denied`,
        {
          hint: 'use a bundle whose config.json you may read',
          cause: e,
        },
      );
    }
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

/**
 * The container's state; throws ERR_RUNTIME_CONTAINER_STATE (`cannot ACTION container "ID": it
 * is STATUS`) unless its status is one of `allowed`.
 */
export async function requireStatus(
  container: StoredContainer,
  allowed: ContainerStatus[],
  action: string,
  hint?: string,
): Promise<ContainerState> {
  const state = await containerState(container.ctx, container.record.id);
  if (!allowed.includes(state.status)) {
    throw new RuntimeError(
      'ERR_RUNTIME_CONTAINER_STATE',
      `cannot ${action} container "${container.record.id}": it is ${state.status}`,
      { hint: hint ?? `it must be ${allowed.join(' or ')}` },
    );
  }
  return state;
}

export const RemoveContainerOptionsSchema = v.strictObject({
  /** Delete a running or paused container too (the runtime kills it first). */
  force: v.optional(v.boolean(), false),
  /**
   * Runs once the runtime has deleted the container (or did not know it), before berth's state
   * for it goes: the place for a monitor's clean-up (conmon-create's `deleteOciContainer`).
   */
  afterDelete: v.optional(v.custom<() => Promise<void>>((f) => typeof f === 'function')),
});
export type RemoveContainerOptions = v.InferInput<typeof RemoveContainerOptionsSchema>;

/**
 * Deletes a container and all of berth's state for it: the runtime's `delete` (forced for a
 * container that is not stopped), `afterDelete`, the bundle's ownership record, the container's
 * directory, and the namespace holder after the last container. Without `force`, a running or
 * paused container is refused with ERR_RUNTIME_CONTAINER_STATE. A container the runtime no longer
 * knows is cleaned up all the same.
 */
export async function removeContainer(
  container: StoredContainer,
  options: RemoveContainerOptions = {},
): Promise<void> {
  const o = parseOptions(RemoveContainerOptionsSchema, options, 'remove options');
  const { store, record, ctx } = container;
  let state: ContainerState | undefined;
  try {
    state = await containerState(ctx, record.id);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_RUNTIME_NO_CONTAINER') throw e;
  }
  if (state) {
    if ((state.status === 'running' || state.status === 'paused') && !o.force) {
      throw new RuntimeError(
        'ERR_RUNTIME_CONTAINER_STATE',
        `cannot delete container "${record.id}": it is ${state.status}`,
        {
          hint: `stop it first (berth oci kill ${record.id} KILL), or use berth oci delete --force ${record.id}`,
        },
      );
    }
    await deleteContainer(ctx, record.id, { force: o.force || state.status !== 'stopped' });
  }
  await o.afterDelete?.();
  await store.unlockBundle(record.bundle, record.id);
  await store.remove(record.id);
  await store.releaseHolderIfIdle();
}
