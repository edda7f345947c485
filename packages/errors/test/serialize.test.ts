import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BerthError, isBerthError, isInternalError } from '../src/berth-error.js';
import { defineBerthError } from '../src/define.js';
import { errorFromJSON, errorToJSON, INTERNAL_ERROR_CODE } from '../src/serialize.js';

class DemoError extends defineBerthError<'ERR_DEMO_PATH'>('DemoError') {}

/** Sends a value through JSON text, as a worker message or a pipe would. */
const roundTrip = (error: unknown) => errorFromJSON(JSON.parse(JSON.stringify(errorToJSON(error))));

test('a user error keeps name, code, message, hint and stack across JSON', () => {
  const e = new DemoError('ERR_DEMO_PATH', 'cannot write "/x"', { hint: 'pick another path' });
  const back = roundTrip(e);
  assert.ok(isBerthError(back));
  assert.is(back.name, 'DemoError');
  assert.is(back.code, 'ERR_DEMO_PATH');
  assert.is(back.message, 'cannot write "/x"');
  assert.is(back.hint, 'pick another path');
  assert.is(back.stack, e.stack);
  assert.is(back.internal, false);
  assert.not.ok(isInternalError(back));
});

test('a bug stays a bug: a plain error becomes internal with its stack', () => {
  const bug = new TypeError("cannot read properties of undefined (reading 'x')");
  const back = roundTrip(bug);
  assert.is(back.code, INTERNAL_ERROR_CODE);
  assert.is(back.name, 'TypeError');
  assert.is(back.message, bug.message);
  assert.is(back.stack, bug.stack);
  assert.ok(back.internal);
  assert.ok(isInternalError(back));
  assert.ok(roundTrip(new BerthError('ERR_X', 'invariant', { internal: true })).internal);
  const thrownString = roundTrip('just a string');
  assert.is(thrownString.message, 'just a string');
  assert.ok(thrownString.internal);
});

test('the chain of causes travels too', () => {
  const errno = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
  const e = new DemoError('ERR_DEMO_PATH', 'cannot write "/x"', { cause: errno });
  const back = roundTrip(e);
  const cause = back.cause as BerthError;
  assert.ok(isBerthError(cause));
  assert.is(cause.message, 'EACCES: permission denied');
  assert.is(cause.stack, errno.stack);
});

test('malformed input becomes an internal error naming the problem', () => {
  const back = errorFromJSON({ code: 3 });
  assert.is(back.code, INTERNAL_ERROR_CODE);
  assert.ok(back.internal);
  assert.match(back.message, /^malformed serialised error/);
});

test.run();
