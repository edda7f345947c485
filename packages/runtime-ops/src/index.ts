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
export type { CgroupLayout } from './host.js';
export {
  CGROUP_MASK_PATH,
  cgroupLayout,
  ensurePrivateDir,
  globalArgs,
  needsCgroupMask,
  runtimeStateRoot,
} from './host.js';
export type { ExitStatus, ForegroundOptions, RunContainerOptions } from './run.js';
export {
  FORWARDED_SIGNALS,
  ForegroundOptionsSchema,
  RunContainerOptionsSchema,
  runArgv,
  runContainer,
  runForeground,
} from './run.js';
