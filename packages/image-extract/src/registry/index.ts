// The registry client: the OCI distribution API for one repository (http with retries and
// redirects, credentials, token challenges).
export { RegistryClient } from './client.js';
export type { Credentials } from './credentials.js';
export type { RegistryOptions, ResolvedRegistryOptions } from './options.js';
export { RegistryOptionsSchema } from './options.js';
export { TokenCache } from './token-cache.js';
