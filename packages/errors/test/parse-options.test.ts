import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as v from 'valibot';
import { type BerthError, isBerthError } from '../src/berth-error.js';
import { defineBerthError } from '../src/define.js';
import { parseOptions } from '../src/parse-options.js';

class DemoError extends defineBerthError<'ERR_DEMO' | 'ERR_INVALID_OPTIONS'>('DemoError') {}

function thrown(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (e) {
    assert.ok(isBerthError(e));
    return e;
  }
  throw new Error('expected a throw');
}

test('parseOptions returns the output or throws ERR_INVALID_OPTIONS with a summary', () => {
  const schema = v.object({ n: v.number() });
  assert.equal(parseOptions(schema, { n: 1 }), { n: 1 });
  const e = thrown(() => parseOptions(schema, { n: 'x' }, 'test options'));
  assert.is(e.code, 'ERR_INVALID_OPTIONS');
  assert.is(e.name, 'BerthError');
  assert.match(e.message, /^invalid test options: .*n/);
  assert.ok(e.hint);
});

test("parseOptions throws the calling package's error class when given one", () => {
  const schema = v.strictObject({ n: v.number() });
  const e = thrown(() => parseOptions(schema, { n: 1, m: 2 }, 'demo options', DemoError));
  assert.ok(e instanceof DemoError);
  assert.ok(DemoError.isInstance(e));
  assert.is(e.code, 'ERR_INVALID_OPTIONS');
  assert.match(e.message, /^invalid demo options: .*m/);
});

test.run();
