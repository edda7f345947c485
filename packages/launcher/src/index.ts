export type { ExitStatus, Stdio, StdioTarget } from '@berth-oci/runtime-ops';
export type { LaunchErrorCode } from './errors.js';
export { LaunchError } from './errors.js';
export type { HostUser, UsernsPlan } from './identity.js';
export { hostUser, planUserns, unshareUserArgs } from './identity.js';
export type { RunningContainer } from './launch.js';
export { dryRun, launch, start } from './launch.js';
export type {
  PrepareBundleOptions,
  PreparedBundle,
  RemoveBundleOptions,
} from './oci-bundle.js';
export {
  BUNDLE_MARKER,
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
export type { ImageCacheOptions, PullOptions, PullResult } from './pull.js';
export {
  cleanImageCache,
  ImageCacheOptionsSchema,
  ImageOptionsSchema,
  listImageCache,
  PullOptionsSchema,
  pull,
} from './pull.js';
export type { SiteConfig, SiteConfigInput } from './site-config.js';
export {
  DEFAULT_SITE_CONFIG,
  describeSiteConfig,
  loadSiteConfig,
  parseSiteConfig,
  readSiteConfig,
  SITE_CONFIG_PATH,
  SITE_DIRECTIVES,
  SiteConfigSchema,
} from './site-config.js';
