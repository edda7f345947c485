import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as v from 'valibot';
import { BERTH_ERROR, BerthError, isBerthError, parseOptions } from '../src/index.js';

test('a berth error carries code, hint and cause', () => {
  const cause = new Error('boom');
  const e = new BerthError('ERR_X_Y', 'thing "a" is broken', { hint: 'fix a', cause });
  assert.is(e.code, 'ERR_X_Y');
  assert.is(e.hint, 'fix a');
  assert.is(e.cause, cause);
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

test('parseOptions returns the output or throws ERR_INVALID_OPTIONS with a summary', () => {
  const schema = v.object({ n: v.number() });
  assert.equal(parseOptions(schema, { n: 1 }), { n: 1 });
  try {
    parseOptions(schema, { n: 'x' }, 'test options');
    assert.unreachable();
  } catch (e) {
    assert.ok(isBerthError(e));
    assert.is((e as BerthError).code, 'ERR_INVALID_OPTIONS');
    assert.match((e as BerthError).message, /^invalid test options: .*n/);
  }
});

test.run();
