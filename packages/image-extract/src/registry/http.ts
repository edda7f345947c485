import { debug } from '../debug.js';
import { ImageError, q } from '../errors.js';
import { type Attempt, Transient } from './retry.js';

/** Statuses worth another try. */
export const RETRY_STATUS: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);
const MAX_REDIRECTS = 10;
const MAX_ERROR_BODY = 64 << 10;

/** What a request needs to know of its client. */
export interface HttpContext {
  /** `host/repository`, for messages. */
  name: string;
  fetch: typeof fetch;
  /** The caller's signal: an abort by it is never retried. */
  signal?: AbortSignal | undefined;
  noHttps: boolean;
}

/** A `Retry-After` header in ms (at most 30 s). */
export function retryAfter(res: Response): number | undefined {
  const h = res.headers.get('retry-after');
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return Math.min(s * 1000, 30_000);
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.min(Math.max(0, t - Date.now()), 30_000);
}

/** The first error of a registry error document (`CODE: message`), or ''. */
export async function errorText(res: Response): Promise<string> {
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
export async function readBody(
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

/** A body over its limit (not retried). */
export class OverLimit extends Error {
  constructor(readonly bytes: number) {
    super(`over the limit at ${bytes} bytes`);
  }
}

/**
 * One request, following redirects by hand: `auth` goes only to the first URL's origin, https
 * is never downgraded to http (unless `noHttps`), non-http(s) targets are refused, at most 10
 * hops. Network failures and retryable statuses are `Transient`.
 */
export async function sendFollowingRedirects(
  http: HttpContext,
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
      res = await http.fetch(current, {
        headers: h,
        redirect: 'manual',
        signal: attempt.signal,
      });
    } catch (cause) {
      if (http.signal?.aborted) throw cause;
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
          `${http.name}: more than ${MAX_REDIRECTS} redirects`,
          {
            hint: 'the registry is misconfigured',
          },
        );
      }
      const next = new URL(res.headers.get('location') as string, current);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new ImageError(
          'ERR_IMAGE_REGISTRY',
          `${http.name} redirected to ${q(next.href)}, which is not http(s)`,
          {
            hint: 'the registry is misconfigured or hostile',
          },
        );
      }
      if (next.protocol === 'http:' && current.protocol === 'https:' && !http.noHttps) {
        throw new ImageError(
          'ERR_IMAGE_REGISTRY',
          `${http.name} redirected from https to plain http (${next.host})`,
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
