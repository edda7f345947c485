// The registry client: the OCI distribution API for one repository (http with retries and
// redirects, credentials, token challenges, a token cache per client).
export { RegistryClient } from './client.js';
export type { RegistryOptions, ResolvedRegistryOptions } from './options.js';
export { RegistryOptionsSchema } from './options.js';
export type { RegistryWait } from './retry.js';
export { TokenCache } from './token-cache.js';
