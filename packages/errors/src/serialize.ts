import * as v from 'valibot';
import { BerthError, isBerthError } from './berth-error.js';

/** The code given to an error that is not a berth error once it is serialised. */
export const INTERNAL_ERROR_CODE = 'ERR_INTERNAL';

/** An error as plain JSON, for crossing a worker or process boundary. */
export interface BerthErrorJSON {
  name: string;
  code: string;
  message: string;
  hint?: string | undefined;
  stack?: string | undefined;
  internal: boolean;
  cause?: BerthErrorJSON | undefined;
}

/** The schema `errorFromJSON` checks its input against. */
export const BerthErrorJSONSchema: v.GenericSchema<BerthErrorJSON> = v.object({
  name: v.string(),
  code: v.string(),
  message: v.string(),
  hint: v.optional(v.string()),
  stack: v.optional(v.string()),
  internal: v.boolean(),
  cause: v.optional(v.lazy(() => BerthErrorJSONSchema)),
});

const MAX_CAUSE_DEPTH = 8;

/**
 * Turns any thrown value into JSON that keeps its name, code, message, hint, stack, whether it
 * is a bug (`internal`), and its chain of causes. A value that is not a berth error becomes an
 * internal `ERR_INTERNAL` error.
 */
export function errorToJSON(error: unknown, depth = 0): BerthErrorJSON {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const json: BerthErrorJSON = isBerthError(error)
    ? {
        name: error.name,
        code: error.code,
        message: error.message,
        internal: (error as { internal?: unknown }).internal === true,
      }
    : error instanceof Error
      ? { name: error.name, code: INTERNAL_ERROR_CODE, message: error.message, internal: true }
      : { name: 'Error', code: INTERNAL_ERROR_CODE, message: String(error), internal: true };
  if (isBerthError(error) && typeof error.hint === 'string') json.hint = error.hint;
  if (error instanceof Error && typeof error.stack === 'string') json.stack = error.stack;
  if (cause !== undefined && cause !== null && depth < MAX_CAUSE_DEPTH) {
    json.cause = errorToJSON(cause, depth + 1);
  }
  return json;
}

/**
 * Rebuilds a `BerthError` from `errorToJSON`'s output, with the same name, code, message,
 * hint, stack, internal marker and causes. Input that does not match the schema becomes an
 * internal error saying so.
 */
export function errorFromJSON(json: unknown): BerthError {
  const parsed = v.safeParse(BerthErrorJSONSchema, json);
  if (!parsed.success) {
    return new BerthError(
      INTERNAL_ERROR_CODE,
      `malformed serialised error: ${v.summarize(parsed.issues)}`,
      { internal: true },
    );
  }
  return rebuild(parsed.output);
}

function rebuild(json: BerthErrorJSON): BerthError {
  const error = new BerthError(json.code, json.message, {
    hint: json.hint,
    internal: json.internal,
    cause: json.cause === undefined ? undefined : rebuild(json.cause),
  });
  error.name = json.name;
  if (json.stack !== undefined) error.stack = json.stack;
  return error;
}
