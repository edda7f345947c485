import {
  createOciContainer as createUnderConmon,
  deleteOciContainer,
  type OciContainer,
} from '@berth-oci/conmon-create';
import { hostUser, planUserns, unshareUserArgs } from '@berth-oci/launcher';
import {
  ContainerStore,
  type LogFormat,
  openContainer,
  RuntimeError,
  type StoredContainer,
} from '@berth-oci/runtime-ops';
import type { Io } from '../../render.js';

export { requireStatus } from '@berth-oci/runtime-ops';
export { deleteOciContainer };

/** Opens the user's container store; for an ordinary user, with the holder's id maps. */
export async function openStore(io: Io): Promise<ContainerStore> {
  const user = await hostUser();
  if (user.uid === 0) return ContainerStore.open({ uid: 0, env: io.env });
  const plan = await planUserns(user, true);
  return ContainerStore.open({ uid: user.uid, env: io.env, userArgs: unshareUserArgs(plan) });
}

/** Container `id` of the user's store, with how to reach its runtime. */
export async function loadContainer(io: Io, id: string): Promise<StoredContainer> {
  return openContainer(await openStore(io), id);
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

/** `oci create`/`oci run`: the arguments mapped onto conmon-create's `createOciContainer`. */
export async function createOciContainer(io: Io, a: CreateArgs): Promise<OciContainer> {
  const logFormat = logFormatOf(a.logFormat);
  return createUnderConmon({
    store: await openStore(io),
    id: a.id,
    bundle: a.bundle,
    runtime: a.runtime,
    env: io.env,
    conmon: io.env.BERTH_CONMON || undefined,
    logPath: a.logPath,
    logFormat,
    pidFile: a.pidFile,
  });
}
