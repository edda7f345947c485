import { setTimeout as sleep } from 'node:timers/promises';
import { debug } from '../debug.js';
import { ImageError } from '../errors.js';

/** A failure worth another try (network error, retryable status, a body cut short, silence). */
export class Transient extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One try of a request: its abort signal, and an idle timer restarted as data arrives. */
export interface Attempt {
  signal: AbortSignal;
  /** Something arrived: restart the idle timer. */
  touch(): void;
  done(): void;
}

/**
 * A long wait of a registry request, announced so that a silent pause is never a mystery:
 * `retry` before each retry (after a transient failure; `retryAfter` when the server's
 * `Retry-After` set the delay), `stalled` when a request has received nothing for a while (it
 * is given up at `timeoutMs`). `message` says it in a sentence, for display.
 */
export type RegistryWait =
  | {
      kind: 'retry';
      /** What is being fetched (`downloading layer 2 sha256:...`). */
      what: string;
      /** `host/repository`. */
      registry: string;
      /** The failure that is retried (`HTTP 429`, `cannot connect to ...`). */
      reason: string;
      /** How long berth waits before the retry. */
      ms: number;
      retryAfter: boolean;
      /** 1-based number of this retry, of `retries`. */
      retry: number;
      retries: number;
      message: string;
    }
  | {
      kind: 'stalled';
      what: string;
      registry: string;
      /** How long nothing has arrived. */
      silentMs: number;
      /** When the request is given up (then retried, if retries are left). */
      timeoutMs: number;
      message: string;
    };

/** How a client retries: its names for messages, the caller's signal and the limits. */
export interface RetryPolicy {
  /** `host/repository`, for messages. */
  name: string;
  origin: string;
  signal?: AbortSignal | undefined;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
  /** Announces long waits. */
  onWait?: ((event: RegistryWait) => void) | undefined;
}

/** Waits from this long on are announced as `retry` events. */
const ANNOUNCE_RETRY_MS = 1000;

/** A human duration: `500 ms`, `2 s`, `1.5 s`. */
export function formatWait(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${s < 10 ? Number(s.toFixed(1)) : Math.round(s)} s`;
}

/** When a silent request is announced as stalled: a third of the timeout, at most 10 s. */
export function stallNoticeMs(timeoutMs: number): number {
  return Math.max(1, Math.min(10_000, Math.floor(timeoutMs / 3)));
}

function startAttempt(p: RetryPolicy, what: string): Attempt {
  const ctl = new AbortController();
  const outer = p.signal;
  const onAbort = () => ctl.abort(outer?.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let notice: NodeJS.Timeout | undefined;
  const noticeMs = stallNoticeMs(p.timeoutMs);
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(
      () => ctl.abort(new Transient(`no data for ${p.timeoutMs} ms`)),
      p.timeoutMs,
    );
    timer.unref();
    if (p.onWait && noticeMs < p.timeoutMs) {
      if (notice) clearTimeout(notice);
      notice = setTimeout(() => {
        p.onWait?.({
          kind: 'stalled',
          what,
          registry: p.name,
          silentMs: noticeMs,
          timeoutMs: p.timeoutMs,
          message: `${what} from ${p.name}: nothing received for ${formatWait(noticeMs)}; waiting up to ${formatWait(p.timeoutMs)} before giving up on this try`,
        });
      }, noticeMs);
      notice.unref();
    }
  };
  arm();
  return {
    signal: ctl.signal,
    touch: arm,
    done: () => {
      if (timer) clearTimeout(timer);
      if (notice) clearTimeout(notice);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Runs `op` until it succeeds, fails for good, or the retries are spent (then
 * ERR_IMAGE_REGISTRY). Only `Transient` failures are retried, after a backoff doubled each time
 * (with jitter) or the server's `Retry-After`.
 */
export async function withRetries<T>(
  p: RetryPolicy,
  what: string,
  op: (attempt: Attempt) => Promise<T>,
): Promise<T> {
  for (let n = 0; ; n++) {
    const attempt = startAttempt(p, what);
    try {
      return await op(attempt);
    } catch (error) {
      if (p.signal?.aborted) throw p.signal.reason ?? error;
      const transient =
        error instanceof Transient
          ? error
          : attempt.signal.aborted && attempt.signal.reason instanceof Transient
            ? attempt.signal.reason
            : undefined;
      if (!transient) throw error;
      if (n >= p.retries) {
        throw new ImageError(
          'ERR_IMAGE_REGISTRY',
          `${what} from ${p.name} failed: ${transient.message}`,
          {
            hint: `tried ${n + 1} times; check the network and that ${p.origin} is up${
              p.origin.startsWith('https:')
                ? '; for a registry without TLS use --no-https (noHttps)'
                : ''
            }`,
            cause: transient.cause ?? transient,
          },
        );
      }
      const delay =
        transient.retryAfterMs ?? p.retryDelayMs * 2 ** n * (0.75 + Math.random() * 0.5);
      debug('%s: %s; retry %d in %d ms', what, transient.message, n + 1, Math.round(delay));
      attempt.done();
      if (p.onWait && delay >= ANNOUNCE_RETRY_MS) {
        const retryAfter = transient.retryAfterMs !== undefined;
        p.onWait({
          kind: 'retry',
          what,
          registry: p.name,
          reason: transient.message,
          ms: delay,
          retryAfter,
          retry: n + 1,
          retries: p.retries,
          message: `${what} from ${p.name}: ${transient.message}; ${
            retryAfter ? 'the registry asks to wait, so ' : ''
          }retrying in ${formatWait(delay)} (retry ${n + 1} of ${p.retries})`,
        });
      }
      await sleep(delay, undefined, { signal: p.signal });
    } finally {
      attempt.done();
    }
  }
}
