import * as v from 'valibot';
import type { RegistryWait } from './retry.js';
import { TokenCache } from './token-cache.js';

const fn = <T>() => v.custom<T>((x) => typeof x === 'function', 'must be a function');
const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

/** How to reach registries for `docker://` references. */
export const RegistryOptionsSchema = v.strictObject({
  /** Auth file to read credentials from (instead of the default ones); it must exist. */
  authFile: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** Credentials for the registry (with `password`); they win over auth files. */
  username: v.optional(v.string()),
  password: v.optional(v.string()),
  /** Speak plain HTTP to the registry (for a registry without TLS). */
  noHttps: v.optional(v.boolean(), false),
  /** Environment for DOCKER_USERNAME/DOCKER_PASSWORD, auth file locations and HOME; default `process.env`. */
  env: v.optional(v.record(v.string(), v.optional(v.string()))),
  /** Retries of a request after a transient failure (network error, 429, 5xx, cut-short body); default 3. */
  retries: v.optional(count, 3),
  /** First backoff delay in ms, doubled each retry (with jitter); default 500. */
  retryDelayMs: v.optional(count, 500),
  /** Give up on a request that sends nothing for this long (ms); default 60,000. */
  timeoutMs: v.optional(v.pipe(count, v.minValue(1)), 60_000),
  /** A `fetch` implementation (default: Node's). */
  fetch: v.optional(fn<typeof fetch>()),
  /** Stops every request. */
  signal: v.optional(
    v.custom<AbortSignal>((x) => x instanceof AbortSignal, 'must be an AbortSignal'),
  ),
  /**
   * Announces long waits: a retry after a transient failure that waits a second or more (a
   * 429's `Retry-After`, a backoff), and a request that has received nothing for a third of
   * `timeoutMs` (at most 10 s) before it times out.
   */
  onWait: v.optional(fn<(event: RegistryWait) => void>()),
  /** Tokens to reuse across calls (default: a new cache per call). */
  tokenCache: v.optional(
    v.custom<TokenCache>((x) => x instanceof TokenCache, 'must be a TokenCache'),
  ),
});
export type RegistryOptions = v.InferInput<typeof RegistryOptionsSchema>;
export type ResolvedRegistryOptions = v.InferOutput<typeof RegistryOptionsSchema>;

/** The API origin of a registry (`docker.io` → `registry-1.docker.io`). */
export function registryOrigin(registry: string, noHttps: boolean): string {
  const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
  return `${noHttps ? 'http' : 'https'}://${host}`;
}
