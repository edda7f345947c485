import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { digestHex } from '../core/digest.js';
import type { DockerRef } from '../core/image-ref.js';
import { bareMediaType } from '../core/media-types.js';
import type { Descriptor } from '../core/schemas.js';
import { digestMismatch, sizeMismatch, tooLarge } from '../core/verified-blob.js';
import { debug } from '../debug.js';
import { cacheWriteError, ImageError, q } from '../errors.js';
import { answerChallenge, authRequired } from './challenge.js';
import { type Credentials, findCredentials } from './credentials.js';
import {
  errorText,
  type HttpContext,
  OverLimit,
  readBody,
  sendFollowingRedirects,
} from './http.js';
import { isLoopbackRegistry } from './loopback.js';
import { type ResolvedRegistryOptions, registryOrigin } from './options.js';
import { type Attempt, type RetryPolicy, Transient, withRetries } from './retry.js';
import { TokenCache } from './token-cache.js';

/** Manifest and index media types asked for, in order of preference. */
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/**
 * A client of the OCI distribution API for one repository: manifests and blobs, the bearer
 * token flow from `WWW-Authenticate` (anonymous or with credentials) and Basic auth, with a token cache of its own (or the one passed in), redirects
 * (credentials are never sent to another origin, https is never downgraded), retries with
 * backoff on transient failures, and an idle timeout.
 */
export class RegistryClient {
  readonly origin: string;
  /** `host/repository`, for messages. */
  readonly name: string;
  private auth: string | undefined;
  private creds: Credentials | undefined | null = null;
  private readonly env: Record<string, string | undefined>;
  private readonly http: HttpContext;
  private readonly retry: RetryPolicy;
  private readonly tokens: TokenCache;

  constructor(
    readonly ref: DockerRef,
    private readonly o: ResolvedRegistryOptions,
  ) {
    // plain HTTP with noHttps, or to a registry on loopback (as Docker does); only noHttps lets
    // a token server or a redirect elsewhere be plain HTTP too
    this.origin = registryOrigin(ref.registry, o.noHttps || isLoopbackRegistry(ref.registry));
    this.name = `${ref.registry}/${ref.repository}`;
    this.env = o.env ?? process.env;
    this.http = { name: this.name, fetch: o.fetch ?? fetch, signal: o.signal, noHttps: o.noHttps };
    this.retry = { ...o, name: this.name, origin: this.origin };
    this.tokens = o.tokenCache ?? new TokenCache();
    if ((o.username === undefined) !== (o.password === undefined)) {
      throw new ImageError(
        'ERR_INVALID_OPTIONS',
        'a registry username needs a password, and a password a username',
        {
          hint: 'give both --docker-username and --docker-password',
        },
      );
    }
  }

  private async credentials(): Promise<Credentials | undefined> {
    if (this.creds !== null) return this.creds;
    if (this.o.username !== undefined && this.o.password !== undefined) {
      this.creds = { username: this.o.username, password: this.o.password };
    } else if (this.env.DOCKER_USERNAME && this.env.DOCKER_PASSWORD !== undefined) {
      this.creds = { username: this.env.DOCKER_USERNAME, password: this.env.DOCKER_PASSWORD };
    } else {
      this.creds = await findCredentials(this.ref.registry, this.ref.repository, {
        authFile: this.o.authFile,
        env: this.env,
      });
    }
    return this.creds;
  }

  /** A registry request with authentication: on 401 the challenge is answered once. */
  private async request(
    path: string,
    headers: Record<string, string>,
    attempt: Attempt,
  ): Promise<Response> {
    const url = `${this.origin}${path}`;
    const scope = `repository:${this.ref.repository}:pull`;
    const creds = await this.credentials();
    const key = TokenCache.key(this.origin, scope, creds);
    this.auth ??= this.tokens.get(key);
    let res = await sendFollowingRedirects(this.http, url, headers, attempt, this.auth);
    if (res.status !== 401) return res;
    const challenge = res.headers.get('www-authenticate');
    await res.body?.cancel().catch(() => {});
    this.auth = await answerChallenge(this.http, challenge, scope, creds, attempt);
    if (this.auth) this.tokens.set(key, this.auth);
    res = await sendFollowingRedirects(this.http, url, headers, attempt, this.auth);
    return res;
  }

  private async failed(res: Response, what: string): Promise<never> {
    const detail = await errorText(res);
    const d = detail ? `: ${detail}` : '';
    if (res.status === 404) {
      throw new ImageError('ERR_IMAGE_NOT_FOUND', `${what} not found in ${this.name}${d}`, {
        hint: 'check the image name, tag and digest',
      });
    }
    if (res.status === 401) throw authRequired(this.name, (await this.credentials()) !== undefined);
    if (res.status === 403) {
      throw new ImageError('ERR_IMAGE_AUTH', `${this.name} denied access to ${what}${d}`, {
        hint: 'check that these credentials may pull this repository',
      });
    }
    throw new ImageError(
      'ERR_IMAGE_REGISTRY',
      `${this.name} answered HTTP ${res.status} for ${what}${d}`,
      {
        hint: 'the registry is failing or is not an OCI distribution registry',
      },
    );
  }

  /**
   * Fetches a manifest or index by tag or digest (at most `max` bytes). Returns the body and the
   * media type the registry sent; the caller verifies the digest and the media type.
   */
  async getManifest(
    reference: string,
    max: number,
  ): Promise<{ data: Buffer; contentType: string; digestHeader: string | undefined }> {
    const what = `manifest ${reference}`;
    return withRetries(this.retry, `fetching ${what}`, async (attempt) => {
      const res = await this.request(
        `/v2/${this.ref.repository}/manifests/${reference}`,
        { accept: MANIFEST_ACCEPT },
        attempt,
      );
      if (res.status !== 200) return this.failed(res, what);
      const length = Number(res.headers.get('content-length') ?? Number.NaN);
      if (length > max) {
        await res.body?.cancel().catch(() => {});
        throw tooLarge({ digest: reference, size: length }, 'image manifest', q(this.name), max);
      }
      let data: Buffer;
      try {
        data = await readBody(res, max, attempt);
      } catch (error) {
        if (error instanceof OverLimit)
          throw tooLarge(
            { digest: reference, size: error.bytes },
            'image manifest',
            q(this.name),
            max,
          );
        throw error;
      }
      if (Number.isSafeInteger(length) && data.length !== length)
        throw new Transient(
          `the manifest response was ${data.length} bytes, not the ${length} announced`,
        );
      return {
        data,
        contentType: bareMediaType(res.headers.get('content-type')),
        digestHeader: res.headers.get('docker-content-digest') ?? undefined,
      };
    });
  }

  /**
   * Streams blob `desc` into `file` (truncated and rewritten on each attempt), checking the
   * size as bytes arrive and the digest at the end; tries `desc.urls` when the registry does
   * not have it (non-distributable layers). `onBytes` hears the bytes received so far.
   */
  async downloadBlob(
    desc: Pick<Descriptor, 'digest' | 'size' | 'urls'>,
    file: string,
    what: string,
    onBytes?: (bytes: number) => void,
  ): Promise<void> {
    const image = q(this.name);
    const expected = digestHex(desc.digest);
    await withRetries(this.retry, `downloading ${what} ${desc.digest}`, async (attempt) => {
      let res = await this.request(`/v2/${this.ref.repository}/blobs/${desc.digest}`, {}, attempt);
      if (res.status === 404 && desc.urls?.length) {
        await res.body?.cancel().catch(() => {});
        res = await this.fromUrls(desc, attempt);
      }
      if (res.status !== 200) return this.failed(res, `blob ${desc.digest} (${what})`);
      const lengthHeader = res.headers.get('content-length');
      if (lengthHeader !== null && Number(lengthHeader) !== desc.size) {
        await res.body?.cancel().catch(() => {});
        throw sizeMismatch(desc, what, image, `announced as ${lengthHeader} (Content-Length)`);
      }
      const said = res.headers.get('docker-content-digest');
      if (said?.startsWith('sha256:') && said !== desc.digest) {
        await res.body?.cancel().catch(() => {});
        throw new ImageError(
          'ERR_IMAGE_DIGEST_MISMATCH',
          `${this.name} served ${said} when asked for blob ${desc.digest} (${what})`,
          {
            hint: 'the registry is broken or hostile',
          },
        );
      }
      const hash = createHash('sha256');
      let total = 0;
      let written = 0;
      const blob = `${what} ${desc.digest}`;
      // A write that fails (a full disk, a quota, a read-only cache) is the cache's problem, not
      // the network's: reported at once, never retried.
      const local = (error: unknown) =>
        cacheWriteError(error, file, blob, { written, size: desc.size });
      let fh: FileHandle;
      try {
        fh = await open(file, 'w', 0o600);
      } catch (error) {
        await res.body?.cancel().catch(() => {});
        throw local(error);
      }
      try {
        try {
          for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
            attempt.touch();
            total += chunk.length;
            if (total > desc.size) {
              throw sizeMismatch(desc, what, image, `more than ${desc.size}`);
            }
            hash.update(chunk);
            try {
              await fh.write(chunk);
            } catch (error) {
              throw local(error);
            }
            written = total;
            onBytes?.(total);
          }
        } catch (error) {
          if (error instanceof ImageError || this.o.signal?.aborted) throw error;
          const reason = attempt.signal.aborted ? attempt.signal.reason : undefined;
          throw reason instanceof Transient
            ? reason
            : new Transient(
                `the download was cut short after ${total} of ${desc.size} bytes`,
                undefined,
                { cause: error },
              );
        }
        if (total < desc.size)
          throw new Transient(`the download was cut short after ${total} of ${desc.size} bytes`);
        await fh.sync().catch((error) => {
          throw local(error);
        });
      } finally {
        await fh.close().catch((error) => {
          throw local(error);
        });
      }
      const actual = hash.digest('hex');
      if (actual !== expected) throw digestMismatch(desc, what, image, actual);
    });
  }

  /** A non-distributable blob from its descriptor's `urls` (http/https only, no credentials). */
  private async fromUrls(
    desc: Pick<Descriptor, 'digest' | 'urls'>,
    attempt: Attempt,
  ): Promise<Response> {
    let last: Response | undefined;
    for (const u of desc.urls ?? []) {
      let url: URL;
      try {
        url = new URL(u);
      } catch {
        continue;
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') continue;
      debug('blob %s: trying %s', desc.digest, url.href);
      const res = await sendFollowingRedirects(this.http, url.href, {}, attempt, undefined);
      if (res.status === 200) return res;
      await res.body?.cancel().catch(() => {});
      last = res;
    }
    return last ?? new Response(null, { status: 404 });
  }

  /** Fetches a small blob (a config) into memory, verified. */
  async getBlob(
    desc: Pick<Descriptor, 'digest' | 'size' | 'urls'>,
    what: string,
    max: number,
  ): Promise<Buffer> {
    const image = q(this.name);
    if (desc.size > max) throw tooLarge(desc, what, image, max);
    return withRetries(this.retry, `fetching ${what} ${desc.digest}`, async (attempt) => {
      const res = await this.request(
        `/v2/${this.ref.repository}/blobs/${desc.digest}`,
        {},
        attempt,
      );
      if (res.status !== 200) return this.failed(res, `blob ${desc.digest} (${what})`);
      const lengthHeader = res.headers.get('content-length');
      if (lengthHeader !== null && Number(lengthHeader) !== desc.size) {
        await res.body?.cancel().catch(() => {});
        throw sizeMismatch(desc, what, image, `announced as ${lengthHeader} (Content-Length)`);
      }
      let data: Buffer;
      try {
        data = await readBody(res, desc.size, attempt);
      } catch (error) {
        if (error instanceof OverLimit)
          throw sizeMismatch(desc, what, image, `more than ${desc.size}`);
        throw error;
      }
      if (data.length < desc.size)
        throw new Transient(
          `the response was cut short after ${data.length} of ${desc.size} bytes`,
        );
      const actual = createHash('sha256').update(data).digest('hex');
      if (actual !== digestHex(desc.digest)) throw digestMismatch(desc, what, image, actual);
      return data;
    });
  }
}
