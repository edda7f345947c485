export type { BuildProcessOptions } from './builders.js';
export { BuildProcessOptionsSchema, buildProcess, minimalSpec, OCI_VERSION } from './builders.js';
export type { CapabilitySetOptions } from './capabilities.js';
export {
  ALL_CAPABILITIES,
  CapabilitySetOptionsSchema,
  capabilitySet,
  DEFAULT_CAPABILITIES,
  normalizeCapabilities,
} from './capabilities.js';
export type { BundleSpecErrorCode } from './errors.js';
export { BundleSpecError } from './errors.js';
export { CONFIG_FILE, readSpec, validateSpec, writeSpec } from './io.js';
export type {
  Capabilities,
  ConsoleSize,
  DeviceCgroup,
  Hook,
  Hooks,
  IdMapping,
  Linux,
  LinuxDevice,
  LinuxResources,
  Mount,
  Namespace,
  NamespaceType,
  Process,
  Rlimit,
  Root,
  Spec,
  User,
} from './schemas.js';
export { HOOK_NAMES, LinuxResourcesSchema, NAMESPACE_TYPES, SpecSchema } from './schemas.js';
