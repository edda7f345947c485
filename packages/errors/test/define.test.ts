import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BerthError, isBerthError } from '../src/berth-error.js';
import { defineBerthError } from '../src/define.js';

type DemoCode = 'ERR_DEMO_ONE' | 'ERR_DEMO_TWO';
class DemoError extends defineBerthError<DemoCode>('DemoError') {}
class OtherError extends defineBerthError<'ERR_OTHER'>('OtherError') {}

test('a defined class keeps code, hint, cause, name and the brand', () => {
  const cause = new Error('low-level');
  const e = new DemoError('ERR_DEMO_ONE', 'demo "x" failed', { hint: 'retry', cause });
  const code: DemoCode = e.code; // the code is typed as the union
  assert.is(code, 'ERR_DEMO_ONE');
  assert.is(e.message, 'demo "x" failed');
  assert.is(e.hint, 'retry');
  assert.is(e.cause, cause);
  assert.is(e.name, 'DemoError');
  assert.is(DemoError.name, 'DemoError');
  assert.ok(e instanceof BerthError);
  assert.ok(e instanceof Error);
  assert.ok(isBerthError(e));
  assert.ok(BerthError.isInstance(e));
  assert.match(String(e.stack), /^DemoError: demo "x" failed/);
});

test('isInstance of a defined class recognises its own errors by brand and name', () => {
  const e = new DemoError('ERR_DEMO_TWO', 'two');
  assert.ok(DemoError.isInstance(e));
  assert.not.ok(OtherError.isInstance(e));
  assert.not.ok(DemoError.isInstance(new BerthError('ERR_DEMO_TWO', 'two')));
  // an error made by another copy of the package: same brand and name, another class
  const foreign = Object.assign(new Error('two'), {
    name: 'DemoError',
    code: 'ERR_DEMO_TWO',
    [Symbol.for('berth.error')]: true,
  });
  assert.ok(DemoError.isInstance(foreign));
  assert.not.ok(DemoError.isInstance(new Error('plain')));
});

test('the internal marker passes through a defined class', () => {
  assert.ok(new DemoError('ERR_DEMO_ONE', 'x', { internal: true }).internal);
  assert.not.ok(new DemoError('ERR_DEMO_ONE', 'x').internal);
});

test.run();
