import * as v from 'valibot';

/** The brand every berth error carries; checked instead of `instanceof`, since packages are versioned apart. */
export const BERTH_ERROR: unique symbol = Symbol.for('berth.error') as never;

export interface BerthErrorOptions {
  /** What the user can do about it, one line. */
  hint?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The base of every error a berth package throws. `code` is stable (`ERR_<AREA>_<WHAT>`),
 * `message` is lower-case and names the thing, `hint` holds the remedy.
 */
export class BerthError extends Error {
  readonly [BERTH_ERROR] = true;
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: BerthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BerthError';
    this.code = code;
    this.hint = options.hint;
  }

  /** True for any berth error, whichever copy of this package made it. */
  static isInstance(error: unknown): error is BerthError {
    return isBerthError(error);
  }
}

export function isBerthError(error: unknown): error is BerthError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[BERTH_ERROR] === true &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

/**
 * Parses `input` with `schema`, throwing `ERR_INVALID_OPTIONS` (with valibot's summary) on failure.
 * `what` names the options in the message, e.g. `launch options`.
 */
export function parseOptions<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  what = 'options',
): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  throw new BerthError('ERR_INVALID_OPTIONS', `invalid ${what}: ${v.summarize(result.issues)}`, {
    hint: 'check the option names and values against the package README',
  });
}
