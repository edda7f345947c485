import * as v from 'valibot';
import { BerthError, type BerthErrorOptions } from './berth-error.js';

/** A class that can be thrown for invalid options: it accepts the code `ERR_INVALID_OPTIONS`. */
export type InvalidOptionsErrorClass = new (
  code: 'ERR_INVALID_OPTIONS',
  message: string,
  options?: BerthErrorOptions,
) => BerthError;

/**
 * Parses `input` with `schema`, throwing `ERR_INVALID_OPTIONS` (with valibot's summary) on
 * failure. `what` names the options in the message, e.g. `launch options`; `ErrorClass` is the
 * calling package's error class (a plain `BerthError` when left out).
 */
export function parseOptions<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  what = 'options',
  ErrorClass: InvalidOptionsErrorClass = BerthError,
): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  throw new ErrorClass('ERR_INVALID_OPTIONS', `invalid ${what}: ${v.summarize(result.issues)}`, {
    hint: 'check the option names and values against the package README',
  });
}
