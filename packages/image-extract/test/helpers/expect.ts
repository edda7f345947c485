import { isBerthError } from '@berth-oci/errors';
import * as assert from 'uvu/assert';

/** Awaits `p` and asserts it rejects with a berth error of `code`; returns the error. */
export async function rejects(
  p: Promise<unknown> | (() => Promise<unknown>),
  code: string,
  includes?: string | RegExp,
): Promise<Error & { code: string; hint?: string }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (error) {
    if (!isBerthError(error)) throw error;
    assert.is(error.code, code, `code (message: ${error.message})`);
    if (typeof includes === 'string')
      assert.ok(
        error.message.includes(includes),
        `message ${JSON.stringify(error.message)} includes ${JSON.stringify(includes)}`,
      );
    else if (includes) assert.match(error.message, includes);
    return error as Error & { code: string; hint?: string };
  }
  assert.unreachable(`expected ${code}`);
  throw new Error('unreachable');
}

/** Calls `fn` and asserts it throws a berth error of `code`. */
export function throws(
  fn: () => unknown,
  code: string,
  includes?: string,
): Error & { code: string; hint?: string } {
  try {
    fn();
  } catch (error) {
    if (!isBerthError(error)) throw error;
    assert.is(error.code, code, `code (message: ${error.message})`);
    if (includes !== undefined)
      assert.ok(
        error.message.includes(includes),
        `message ${JSON.stringify(error.message)} includes ${JSON.stringify(includes)}`,
      );
    return error as Error & { code: string; hint?: string };
  }
  assert.unreachable(`expected ${code}`);
  throw new Error('unreachable');
}
