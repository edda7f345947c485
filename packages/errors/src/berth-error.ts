/** The brand every berth error carries; checked instead of `instanceof`, since packages are versioned apart. */
export const BERTH_ERROR: unique symbol = Symbol.for('berth.error') as never;

export interface BerthErrorOptions {
  /** What the user can do about it, one line. */
  hint?: string;
  /** The underlying error. */
  cause?: unknown;
  /** True when the error is a bug in berth rather than something the user can fix. */
  internal?: boolean;
}

/**
 * The base of every error a berth package throws. `code` is stable (`ERR_<AREA>_<WHAT>`),
 * `message` is lower-case and names the thing, `hint` holds the remedy, `internal` marks a
 * bug in berth (as opposed to a mistake or a condition the user can fix).
 */
export class BerthError extends Error {
  readonly [BERTH_ERROR] = true;
  readonly code: string;
  readonly hint: string | undefined;
  readonly internal: boolean;

  constructor(code: string, message: string, options: BerthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BerthError';
    this.code = code;
    this.hint = options.hint;
    this.internal = options.internal === true;
  }

  /** True for any berth error, whichever copy of this package made it. */
  static isInstance(error: unknown): error is BerthError {
    return isBerthError(error);
  }
}

/** True for any berth error, whichever copy of this package made it (the brand, not `instanceof`). */
export function isBerthError(error: unknown): error is BerthError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[BERTH_ERROR] === true &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

/**
 * True when `error` is a bug rather than a user error: anything that is not a berth error,
 * or a berth error marked `internal`. Berth errors made before the marker existed count as
 * user errors.
 */
export function isInternalError(error: unknown): boolean {
  return !isBerthError(error) || (error as { internal?: unknown }).internal === true;
}
