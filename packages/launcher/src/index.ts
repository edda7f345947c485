export type { ExitStatus } from '@berth-oci/runtime-ops';
export type { CdiSpec } from './cdi.js';
export {
  CdiSpecSchema,
  DEFAULT_CDI_DIRS,
  injectCdiDevices,
  loadCdiSpecs,
  parseCdiName,
  sortMounts,
} from './cdi.js';
export {
  cgroupResources,
  checkCgroupSupport,
  deviceNumbers,
  limitsToResources,
  loadCgroupsToml,
  parseSize,
} from './cgroups.js';
export { checkOptions, resolvConfFromDns, unsupportedOptions } from './check-options.js';
export type { EnvInput } from './env.js';
export {
  buildEnv,
  CONTAINER_LIBS_DIR,
  DEFAULT_PATH,
  ENV_PREFIXES,
  OMITTED_HOST_VARS,
  PASSED_HOST_VARS,
} from './env.js';
export { ENV_FILE_IGNORED, evaluateEnvFile, readEnvFile } from './env-file.js';
export type { LaunchErrorCode } from './errors.js';
export { LaunchError } from './errors.js';
export { findPasswdUser, generateGroup, generatePasswd, readImageFile } from './etc-files.js';
export type { HostUser, UsernsPlan } from './identity.js';
export { hostUser, ownerFunction, planUserns, unshareUserArgs } from './identity.js';
export { effectiveCapabilities, resolveInImage } from './image-path.js';
export { dryRun, launch, NO_COMPAT_BIND_PATHS, processArgs, SHELL_ARGS } from './launch.js';
export type {
  PrepareBundleOptions,
  PreparedBundle,
  RemoveBundleOptions,
} from './oci-bundle.js';
export {
  BUNDLE_HOSTNAME,
  BUNDLE_MARKER,
  bundleIdMaps,
  bundleSpec,
  PrepareBundleOptionsSchema,
  prepareBundle,
  RemoveBundleOptionsSchema,
  removeBundle,
} from './oci-bundle.js';
export type {
  FlagSpec,
  OptionKey,
  OptionKind,
  OptionRow,
  OptionSpec,
} from './option-table.js';
export {
  BERTH_GROUP,
  IMAGE_OPTION_TABLE,
  LAUNCH_OPTION_TABLE,
  optionEnvKeys,
  REFUSED_FLAGS,
} from './option-table.js';
export type {
  CgroupLimits,
  LaunchOptions,
  LaunchProgress,
  ResolvedLaunchOptions,
} from './options.js';
export { CgroupLimitsSchema, LaunchOptionsSchema } from './options.js';
export type { OverlayPlan } from './overlay.js';
export { OVERLAY_UNSAFE, planOverlays, prepareWritableOverlay } from './overlay.js';
export type { ImageCacheOptions, PullOptions, PullResult } from './pull.js';
export {
  cleanImageCache,
  ImageCacheOptionsSchema,
  ImageOptionsSchema,
  listImageCache,
  PullOptionsSchema,
  pull,
} from './pull.js';
export type { ImageOpenOptions, ImageSession } from './rootfs.js';
export { openImage, removeTreesAs } from './rootfs.js';
