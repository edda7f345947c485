export type { ConmonFiles } from './args.js';
export { conmonFiles } from './args.js';
export type { ConmonContainer, CreateContainerOptions } from './create.js';
export { CreateContainerOptionsSchema, createContainer, findConmon } from './create.js';
export type { ConmonErrorCode } from './errors.js';
export { ConmonError } from './errors.js';
export type { K8sLogLine } from './log.js';
export { parseK8sLogLine } from './log.js';
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
