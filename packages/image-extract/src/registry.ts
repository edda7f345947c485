import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '@berth-oci/errors';
import * as v from 'valibot';
import { type Credentials, findCredentials } from './auth.js';
import { digestMismatch, sizeMismatch, tooLarge } from './blob.js';
import { debug } from './debug.js';
import { digestHex } from './digest.js';
import { ImageError, q } from './errors.js';
import { bareMediaType } from './media-types.js';
import type { DockerRef } from './ref.js';
import type { Descriptor } from './schemas.js';

const fn = <T>() => v.custom<T>((x) => typeof x === 'function', 'must be a function');
const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

/** How to reach registries for `docker://` references. */
export const RegistryOptionsSchema = v.object({
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
});
export type RegistryOptions = v.InferInput<typeof RegistryOptionsSchema>;
export type ResolvedRegistryOptions = v.InferOutput<typeof RegistryOptionsSchema>;

/** Manifest and index media types asked for, in order of preference. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const MAX_REDIRECTS = 10;
const MAX_ERROR_BODY = 64 << 10;
const MAX_TOKEN_BODY = 1 << 20;

/** A failure worth another try. */
class Transient extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Attempt {
  signal: AbortSignal;
  /** Something arrived: restart the idle timer. */
  touch(): void;
  done(): void;
}

/** Token cache shared by clients of one process: `origin|scope|user` → Authorization value. */
const tokens = new Map<string, { value: string; until: number }>();

/** The API origin of a registry (`docker.io` → `registry-1.docker.io`). */
export function registryOrigin(registry: string, noHttps: boolean): string {
  const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
  return `${noHttps ? 'http' : 'https'}://${host}`;
}

function parseChallenges(
  header: string | null,
): Array<{ scheme: string; params: Record<string, string> }> {
  if (!header) return [];
  const out: Array<{ scheme: string; params: Record<string, string> }> = [];
  const re = /([A-Za-z]+)\s+((?:[A-Za-z_]+=(?:"[^"]*"|[^,\s]*)\s*,?\s*)*)/g;
  for (const m of header.matchAll(re)) {
    const params: Record<string, string> = {};
    for (const p of (m[2] ?? '').matchAll(/([A-Za-z_]+)=(?:"([^"]*)"|([^,\s]*))/g)) {
      params[(p[1] as string).toLowerCase()] = p[2] ?? p[3] ?? '';
    }
    out.push({ scheme: (m[1] as string).toLowerCase(), params });
  }
  return out;
}

function retryAfter(res: Response): number | undefined {
  const h = res.headers.get('retry-after');
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return Math.min(s * 1000, 30_000);
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.min(Math.max(0, t - Date.now()), 30_000);
}

async function errorText(res: Response): Promise<string> {
  try {
    const buf = await readBody(res, MAX_ERROR_BODY, undefined, true);
    const doc = JSON.parse(buf.toString('utf8')) as {
      errors?: Array<{ code?: string; message?: string }>;
    };
    const e = doc.errors?.[0];
    if (e) return [e.code, e.message].filter(Boolean).join(': ');
  } catch {
    // not a registry error document
  }
  return '';
}

/** Reads a whole response body, refusing more than `max` bytes. */
async function readBody(
  res: Response,
  max: number,
  attempt: Attempt | undefined,
  lax = false,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  if (!res.body) return Buffer.alloc(0);
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      attempt?.touch();
      total += chunk.length;
      if (total > max) {
        if (lax) break;
        throw new OverLimit(total);
      }
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    }
  } catch (error) {
    if (error instanceof OverLimit || lax) {
      if (lax) return Buffer.concat(chunks);
      throw error;
    }
    throw new Transient(`the response was cut short after ${total} bytes`, undefined, {
      cause: error,
    });
  }
  return Buffer.concat(chunks);
}

class OverLimit extends Error {
  constructor(readonly bytes: number) {
    super(`over the limit at ${bytes} bytes`);
  }
}

const basic = (c: Credentials) =>
  `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

/**
 * A client of the OCI distribution API for one repository: manifests and blobs, the bearer
 * token flow from `WWW-Authenticate` (anonymous or with credentials) and Basic auth, redirects
 * (credentials are never sent to another origin, https is never downgraded), retries with
 * backoff on transient failures, and an idle timeout.
 */
export class RegistryClient {
  readonly origin: string;
  /** `host/repository`, for messages. */
  readonly name: string;
  private auth: string | undefined;
  private creds: Credentials | undefined | null = null;
  private readonly fetchImpl: typeof fetch;
  private readonly env: Record<string, string | undefined>;

  constructor(
    readonly ref: DockerRef,
    private readonly o: ResolvedRegistryOptions,
  ) {
    this.origin = registryOrigin(ref.registry, o.noHttps);
    this.name = `${ref.registry}/${ref.repository}`;
    this.fetchImpl = o.fetch ?? fetch;
    this.env = o.env ?? process.env;
    if ((o.username === undefined) !== (o.password === undefined)) {
      throw new BerthError(
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

  private attempt(): Attempt {
    const ctl = new AbortController();
    const outer = this.o.signal;
    const onAbort = () => ctl.abort(outer?.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(
        () => ctl.abort(new Transient(`no data for ${this.o.timeoutMs} ms`)),
        this.o.timeoutMs,
      );
      timer.unref();
    };
    arm();
    return {
      signal: ctl.signal,
      touch: arm,
      done: () => {
        if (timer) clearTimeout(timer);
        outer?.removeEventListener('abort', onAbort);
      },
    };
  }

  /** Runs `op` until it succeeds, fails for good, or the retries are spent. */
  private async withRetries<T>(what: string, op: (attempt: Attempt) => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      const attempt = this.attempt();
      try {
        return await op(attempt);
      } catch (error) {
        if (this.o.signal?.aborted) throw this.o.signal.reason ?? error;
        const transient =
          error instanceof Transient
            ? error
            : attempt.signal.aborted && attempt.signal.reason instanceof Transient
              ? attempt.signal.reason
              : undefined;
        if (!transient) throw error;
        if (n >= this.o.retries) {
          throw new ImageError(
            'ERR_IMAGE_REGISTRY',
            `${what} from ${this.name} failed: ${transient.message}`,
            {
              hint: `tried ${n + 1} times; check the network and that ${this.origin} is up${
                this.origin.startsWith('https:')
                  ? '; for a registry without TLS use --no-https (noHttps)'
                  : ''
              }`,
              cause: transient.cause ?? transient,
            },
          );
        }
        const delay =
          transient.retryAfterMs ?? this.o.retryDelayMs * 2 ** n * (0.75 + Math.random() * 0.5);
        debug('%s: %s; retry %d in %d ms', what, transient.message, n + 1, Math.round(delay));
        await sleep(delay, undefined, { signal: this.o.signal });
      } finally {
        attempt.done();
      }
    }
  }

  /** One request, following redirects by hand. Network failures and retryable statuses are Transient. */
  private async send(
    url: string,
    headers: Record<string, string>,
    attempt: Attempt,
    auth: string | undefined,
  ): Promise<Response> {
    let current = new URL(url);
    const origin = current.origin;
    for (let hop = 0; ; hop++) {
      const h: Record<string, string> = { 'user-agent': 'berth', ...headers };
      if (auth && current.origin === origin) h.authorization = auth;
      let res: Response;
      try {
        res = await this.fetchImpl(current, {
          headers: h,
          redirect: 'manual',
          signal: attempt.signal,
        });
      } catch (cause) {
        if (this.o.signal?.aborted) throw cause;
        const reason = attempt.signal.aborted ? attempt.signal.reason : undefined;
        if (reason instanceof Transient) throw reason;
        const code = (cause as { cause?: { code?: string } }).cause?.code;
        throw new Transient(
          `cannot connect to ${current.host}${code ? ` (${code})` : ''}`,
          undefined,
          { cause },
        );
      }
      attempt.touch();
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        await res.body?.cancel().catch(() => {});
        if (hop >= MAX_REDIRECTS) {
          throw new ImageError(
            'ERR_IMAGE_REGISTRY',
            `${this.name}: more than ${MAX_REDIRECTS} redirects`,
            {
              hint: 'the registry is misconfigured',
            },
          );
        }
        const next = new URL(res.headers.get('location') as string, current);
        if (next.protocol !== 'https:' && next.protocol !== 'http:') {
          throw new ImageError(
            'ERR_IMAGE_REGISTRY',
            `${this.name} redirected to ${q(next.href)}, which is not http(s)`,
            {
              hint: 'the registry is misconfigured or hostile',
            },
          );
        }
        if (next.protocol === 'http:' && current.protocol === 'https:' && !this.o.noHttps) {
          throw new ImageError(
            'ERR_IMAGE_REGISTRY',
            `${this.name} redirected from https to plain http (${next.host})`,
            {
              hint: 'refused: use --no-https only if you trust the network',
            },
          );
        }
        debug('redirect %s -> %s', current.href, next.href);
        current = next;
        continue;
      }
      if (RETRY_STATUS.has(res.status)) {
        const after = retryAfter(res);
        const detail = await errorText(res);
        throw new Transient(`HTTP ${res.status}${detail ? ` (${detail})` : ''}`, after);
      }
      return res;
    }
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
    const who = creds
      ? createHash('sha256').update(`${creds.username}\0${creds.password}`).digest('hex')
      : 'anonymous';
    const key = `${this.origin}|${scope}|${who}`;
    const cached = tokens.get(key);
    if (!this.auth && cached && cached.until > Date.now()) this.auth = cached.value;
    let res = await this.send(url, headers, attempt, this.auth);
    if (res.status !== 401) return res;
    const challenge = res.headers.get('www-authenticate');
    await res.body?.cancel().catch(() => {});
    this.auth = await this.answer(challenge, scope, attempt);
    if (this.auth) tokens.set(key, { value: this.auth, until: Date.now() + 50_000 });
    res = await this.send(url, headers, attempt, this.auth);
    return res;
  }

  /** Answers a `WWW-Authenticate` challenge: a bearer token (anonymous or with credentials), or Basic. */
  private async answer(
    header: string | null,
    scope: string,
    attempt: Attempt,
  ): Promise<string | undefined> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const creds = await this.credentials();
    if (!bearer) {
      if (challenges.some((c) => c.scheme === 'basic')) {
        if (!creds) throw this.authRequired(false);
        return basic(creds);
      }
      throw new ImageError(
        'ERR_IMAGE_AUTH',
        `${this.name} asks for authentication berth does not know (${q(header ?? 'no WWW-Authenticate header', 120)})`,
        {
          hint: 'only Bearer token and Basic authentication are supported',
        },
      );
    }
    const realm = bearer.params.realm;
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm ?? '');
    } catch {
      throw new ImageError(
        'ERR_IMAGE_AUTH',
        `${this.name} gave an invalid token realm ${q(realm ?? '')}`,
        {
          hint: 'the registry is misconfigured',
        },
      );
    }
    if (realmUrl.protocol !== 'https:' && !(realmUrl.protocol === 'http:' && this.o.noHttps)) {
      throw new ImageError(
        'ERR_IMAGE_AUTH',
        `${this.name} sends berth to a token server that is not https (${q(realmUrl.href)})`,
        {
          hint: 'refused; use --no-https only for a registry you trust on a trusted network',
        },
      );
    }
    if (bearer.params.service) realmUrl.searchParams.set('service', bearer.params.service);
    realmUrl.searchParams.set('scope', bearer.params.scope || scope);
    const headers: Record<string, string> = { 'user-agent': 'berth', accept: 'application/json' };
    if (creds) headers.authorization = basic(creds);
    let res: Response;
    try {
      res = await this.fetchImpl(realmUrl, { headers, redirect: 'follow', signal: attempt.signal });
    } catch (cause) {
      if (this.o.signal?.aborted) throw cause;
      throw new Transient(`cannot reach the token server ${realmUrl.host}`, undefined, { cause });
    }
    attempt.touch();
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => {});
      throw this.authRequired(creds !== undefined);
    }
    if (RETRY_STATUS.has(res.status)) {
      await res.body?.cancel().catch(() => {});
      throw new Transient(`the token server answered HTTP ${res.status}`, retryAfter(res));
    }
    if (res.status !== 200) {
      const detail = await errorText(res);
      throw new ImageError(
        'ERR_IMAGE_AUTH',
        `the token server of ${this.name} answered HTTP ${res.status}${detail ? ` (${detail})` : ''}`,
        {
          hint: 'check the credentials and the image name',
        },
      );
    }
    let token: unknown;
    try {
      const doc = JSON.parse(
        (await readBody(res, MAX_TOKEN_BODY, attempt)).toString('utf8'),
      ) as Record<string, unknown>;
      token = doc.token ?? doc.access_token;
    } catch (cause) {
      if (cause instanceof Transient) throw cause;
      token = undefined;
    }
    if (typeof token !== 'string' || token === '' || /[\r\n]/.test(token)) {
      throw new ImageError(
        'ERR_IMAGE_AUTH',
        `the token server of ${this.name} sent no valid token`,
        {
          hint: 'the registry is misconfigured',
        },
      );
    }
    return `Bearer ${token}`;
  }

  private authRequired(withCreds: boolean): ImageError {
    return withCreds
      ? new ImageError('ERR_IMAGE_AUTH', `${this.name} refused the credentials`, {
          hint: 'check the user name and password (--docker-username/--docker-password, DOCKER_USERNAME/DOCKER_PASSWORD, or the auth file)',
        })
      : new ImageError(
          'ERR_IMAGE_AUTH',
          `${this.name} requires authentication (or does not exist)`,
          {
            hint: 'give credentials with --authfile, --docker-username/--docker-password or DOCKER_USERNAME/DOCKER_PASSWORD; check the image name',
          },
        );
  }

  private async failed(res: Response, what: string): Promise<never> {
    const detail = await errorText(res);
    const d = detail ? `: ${detail}` : '';
    if (res.status === 404) {
      throw new ImageError('ERR_IMAGE_NOT_FOUND', `${what} not found in ${this.name}${d}`, {
        hint: 'check the image name, tag and digest',
      });
    }
    if (res.status === 401) throw this.authRequired((await this.credentials()) !== undefined);
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
    return this.withRetries(`fetching ${what}`, async (attempt) => {
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
    await this.withRetries(`downloading ${what} ${desc.digest}`, async (attempt) => {
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
      const fh: FileHandle = await open(file, 'w', 0o600);
      try {
        try {
          for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
            attempt.touch();
            total += chunk.length;
            if (total > desc.size) {
              throw sizeMismatch(desc, what, image, `more than ${desc.size}`);
            }
            hash.update(chunk);
            await fh.write(chunk);
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
        await fh.sync();
      } finally {
        await fh.close();
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
      const res = await this.send(url.href, {}, attempt, undefined);
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
    return this.withRetries(`fetching ${what} ${desc.digest}`, async (attempt) => {
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
