import { isBerthError } from '@berth-oci/errors';
import * as assert from 'uvu/assert';

/** Asserts that `fn` throws (or rejects with) a berth error with `code`, and returns it. */
export async function rejects(
  fn: () => unknown,
  code: string,
  message?: RegExp,
): Promise<{ code: string; message: string; hint: string | undefined; cause?: unknown }> {
  try {
    await fn();
  } catch (e) {
    assert.ok(isBerthError(e), `expected a berth error, got ${String(e)}`);
    if (!isBerthError(e)) throw e;
    assert.is(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.unreachable(`expected ${code}`);
  throw new Error('unreachable');
}
