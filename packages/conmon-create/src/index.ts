export type { ConmonArgsOptions, ConmonFiles } from './args.js';
export { ConmonArgsOptionsSchema, conmonArgs, conmonFiles } from './args.js';
export type { ConmonContainer, CreateContainerOptions } from './create.js';
export {
  CONMON_BUNDLE_FILES,
  CreateContainerOptionsSchema,
  createContainer,
  findConmon,
  logTargets,
  readExitStatus,
  removeConmonFiles,
  waitForExit,
} from './create.js';
export type { ConmonErrorCode } from './errors.js';
export { ConmonError } from './errors.js';
export type { K8sLogLine } from './log.js';
export {
  convertLogFile,
  k8sLogToJsonLines,
  LOG_CONVERTER_PATH,
  parseK8sLogLine,
  parseRuntimeLog,
} from './log.js';
export type {
  CreateOciContainerOptions,
  DeleteOciContainerOptions,
  OciContainer,
  WaitForOciExitOptions,
} from './oci-container.js';
export {
  CreateOciContainerOptionsSchema,
  createOciContainer,
  DeleteOciContainerOptionsSchema,
  deleteOciContainer,
  WaitForOciExitOptionsSchema,
  waitForOciExit,
} from './oci-container.js';
export type { SyncMessage } from './sync.js';
export { parseSyncMessage } from './sync.js';
