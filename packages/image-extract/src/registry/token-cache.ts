import { createHash } from 'node:crypto';
import type { Credentials } from './credentials.js';

/** How long a registry token is reused: registries issue them for 60 s at least. */
const TOKEN_LIFETIME_MS = 50_000;

/**
 * Authorization values (bearer tokens, Basic) a registry accepted, by origin, scope and
 * credentials, each reused for 50 s. Every `RegistryClient` has one; pass the same
 * `tokenCache` to `resolveImage` and `fetchImageBlobs` to reuse a token across both.
 */
export class TokenCache {
  private readonly entries = new Map<string, { value: string; until: number }>();

  /** The key of a token: credentials are hashed, never kept in the key. */
  static key(origin: string, scope: string, creds: Credentials | undefined): string {
    const who = creds
      ? createHash('sha256').update(`${creds.username}\0${creds.password}`).digest('hex')
      : 'anonymous';
    return `${origin}|${scope}|${who}`;
  }

  get(key: string): string | undefined {
    const hit = this.entries.get(key);
    return hit && hit.until > Date.now() ? hit.value : undefined;
  }

  set(key: string, value: string): void {
    this.entries.set(key, { value, until: Date.now() + TOKEN_LIFETIME_MS });
  }
}
