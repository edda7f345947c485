import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BERTH_ERROR, BerthError, isBerthError, isInternalError } from '../src/berth-error.js';

test('a berth error carries code, hint and cause', () => {
  const cause = new Error('boom');
  const e = new BerthError('ERR_X_Y', 'thing "a" is broken', { hint: 'fix a', cause });
  assert.is(e.code, 'ERR_X_Y');
  assert.is(e.hint, 'fix a');
  assert.is(e.cause, cause);
  assert.is(e.internal, false);
  assert.ok(isBerthError(e));
  assert.ok(BerthError.isInstance(e));
});

test('the brand is recognised without instanceof (another copy of the package)', () => {
  const foreign = Object.assign(new Error('x'), {
    code: 'ERR_A',
    [Symbol.for('berth.error')]: true,
  });
  assert.ok(isBerthError(foreign));
  assert.is(BERTH_ERROR, Symbol.for('berth.error'));
  assert.not.ok(isBerthError(new Error('plain')));
  assert.not.ok(isBerthError({ code: 'ERR_A' }));
  assert.not.ok(isBerthError(null));
});

test('bugs are told apart from user errors', () => {
  assert.ok(isInternalError(new BerthError('ERR_X', 'broken invariant', { internal: true })));
  assert.ok(isInternalError(new TypeError('x is undefined')));
  assert.ok(isInternalError('a thrown string'));
  assert.not.ok(isInternalError(new BerthError('ERR_X', 'no such file "/a"')));
  // an error from a copy of the package older than the marker is a user error
  const old = Object.assign(new Error('x'), { code: 'ERR_A', [Symbol.for('berth.error')]: true });
  assert.not.ok(isInternalError(old));
});

test.run();
