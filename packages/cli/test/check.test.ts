import { LAUNCH_OPTION_TABLE, LaunchOptionsSchema } from '@berth-oci/launcher';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CliError } from '../src/errors.js';
import { checkFlagValues } from '../src/options/check.js';

const check = (o: Record<string, unknown>) =>
  checkFlagValues(LaunchOptionsSchema, { image: 'oci:/x', ...o }, LAUNCH_OPTION_TABLE, 'see');

const failure = (o: Record<string, unknown>) => {
  try {
    check(o);
  } catch (e) {
    assert.ok(CliError.isInstance(e), String(e));
    assert.is((e as CliError).code, 'ERR_CLI_USAGE');
    assert.is((e as CliError).hint, 'see');
    return (e as CliError).message;
  }
  assert.unreachable('no error');
};

test('issues speak in flag names: top-level keys, limits, list entries', () => {
  check({ cwd: '/ok', limits: { cpuShares: 2 } });
  assert.is(failure({ cwd: 'rel' }), '--cwd must be an absolute path');
  assert.is(failure({ limits: { cpuShares: Number.NaN } }), '--cpu-shares needs a number');
  assert.is(failure({ limits: { memorySwap: '' } }), '--memory-swap must not be empty');
  assert.is(failure({ env: ['A=1', 'B'] }), '--env entries must look like NAME=value');
  assert.is(
    failure({ overlays: [3] }),
    `--overlay ${'Invalid type: Expected string but received 3'}`,
  );
});

test('an issue of no flag keeps its own message', () => {
  assert.is(failure({ image: '' }), 'an image reference is required');
});

test.run();
