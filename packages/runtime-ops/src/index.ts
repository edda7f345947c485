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
export { FindRuntimeOptionsSchema, findRuntime, RUNTIME_NAMES, which } from './find.js';
export type { CgroupLayout } from './host.js';
export { cgroupLayout, globalArgs, needsCgroupMask, runtimeStateRoot } from './host.js';
export type { LockOwner } from './lock.js';
export { bundleLockPath, isAlive, readLock } from './lock.js';
export type { RuntimeContext } from './ops.js';
export {
  containerState,
  deleteContainer,
  execInContainer,
  killContainer,
  killSignal,
  parseSignal,
  pauseContainer,
  resumeContainer,
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
export { CONTAINER_STATUSES, toOciState } from './state.js';
export type { ContainerRecord, ContainerStoreOptions, LogFormat } from './store.js';
export { ContainerIdSchema, ContainerStore, LOG_FORMATS } from './store.js';
