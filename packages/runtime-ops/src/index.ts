export type { RemoveContainerOptions, StoredContainer } from './container.js';
export {
  checkBundle,
  openContainer,
  RemoveContainerOptionsSchema,
  removeContainer,
  requireStatus,
} from './container.js';
export type { RuntimeErrorCode } from './errors.js';
export { RuntimeError } from './errors.js';
export type { FindRuntimeOptions, Runtime, RuntimeName } from './find.js';
export {
  FindRuntimeOptionsSchema,
  findRuntime,
  RUNTIME_NAMES,
  SYSTEM_SEARCH_PATH,
  which,
} from './find.js';
export type { HolderInfo } from './holder.js';
export {
  cgroupMaskPrefix,
  ensureHolder,
  findHolder,
  HOLDER_FILE,
  HOLDER_LOCK_FILE,
  HolderInfoSchema,
  holderAlive,
  holderArgv,
  nsenterPrefix,
  startHolder,
  stopHolder,
  usernsOf,
  withHolderLock,
} from './holder.js';
export type { CgroupLayout } from './host.js';
export {
  CGROUP_MASK_PATH,
  cgroupLayout,
  ensurePrivateDir,
  globalArgs,
  needsCgroupMask,
  runtimeStateRoot,
} from './host.js';
export type { LockOwner } from './lock.js';
export {
  BUNDLE_LOCK_FILE,
  bundleLockPath,
  isAlive,
  LockOwnerSchema,
  lockBundle,
  readLock,
  unlockBundle,
} from './lock.js';
export type { RuntimeContext, RuntimeOp } from './ops.js';
export {
  containerState,
  deleteContainer,
  execInContainer,
  isUnknownContainer,
  killContainer,
  killSignal,
  opArgs,
  pauseContainer,
  resumeContainer,
  runtimeArgv,
  runtimeOp,
  startContainer,
  updateContainer,
  waitForState,
} from './ops.js';
export type {
  ExitStatus,
  FdStream,
  ForegroundOptions,
  ForegroundProcess,
  RunContainerOptions,
  Stdio,
  StdioTarget,
} from './run.js';
export {
  FORWARDED_SIGNALS,
  ForegroundOptionsSchema,
  KILL_GRACE_MS,
  RunContainerOptionsSchema,
  runArgv,
  runContainer,
  runForeground,
  StdioSchema,
  StdioTargetSchema,
  startContainerRun,
  startForeground,
} from './run.js';
export type { ContainerState, ContainerStatus, OciState } from './state.js';
export {
  CONTAINER_STATUSES,
  ContainerStateSchema,
  parseState,
  runtimeErrorMessage,
  toOciState,
} from './state.js';
export type { ContainerRecord, ContainerStoreOptions, LogFormat } from './store.js';
export {
  CONTAINER_ID_PATTERN,
  ContainerIdSchema,
  ContainerRecordSchema,
  ContainerStore,
  LOG_FORMATS,
  RECORD_FILE,
} from './store.js';
