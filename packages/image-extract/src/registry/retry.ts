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

/** How a client retries: its names for messages, the caller's signal and the limits. */
export interface RetryPolicy {
  /** `host/repository`, for messages. */
  name: string;
  origin: string;
  signal?: AbortSignal | undefined;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
}

function startAttempt(p: RetryPolicy): Attempt {
  const ctl = new AbortController();
  const outer = p.signal;
  const onAbort = () => ctl.abort(outer?.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(
      () => ctl.abort(new Transient(`no data for ${p.timeoutMs} ms`)),
      p.timeoutMs,
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
    const attempt = startAttempt(p);
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
      await sleep(delay, undefined, { signal: p.signal });
    } finally {
      attempt.done();
    }
  }
}
