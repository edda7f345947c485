import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseResolvedImage } from '../src/core/resolved-image.js';
import { resolveImage } from '../src/resolve.js';
import { throws } from './helpers/expect.js';
import { Layout } from './helpers/layout.js';

test('a resolved image survives JSON and parses to the same value', async () => {
  const l = new Layout();
  const layer = l.layer([{ name: 'hello', data: 'hi\n' }]);
  l.writeIndex([{ desc: l.image([layer], { config: { Cmd: ['sh'] } }), tag: 'v1' }]);
  const img = await resolveImage(`oci:${l.dir}:v1`);
  const parsed = parseResolvedImage(JSON.parse(JSON.stringify(img)));
  assert.equal(parsed, JSON.parse(JSON.stringify(img)));
  assert.is(parsed.layers[0]?.diffId, layer.diffId);
});

test('a malformed resolved image: ERR_INVALID_OPTIONS naming the field', async () => {
  const l = new Layout();
  l.writeIndex([{ desc: l.image([l.layer([{ name: 'a', data: 'a' }])]), tag: 'v1' }]);
  const img = JSON.parse(JSON.stringify(await resolveImage(`oci:${l.dir}:v1`)));
  throws(() => parseResolvedImage({ ...img, layers: undefined }), 'ERR_INVALID_OPTIONS', 'layers');
  throws(
    () => parseResolvedImage({ ...img, source: { kind: 'tape' } }),
    'ERR_INVALID_OPTIONS',
    'source',
  );
  throws(() => parseResolvedImage({ ...img, extra: 1 }), 'ERR_INVALID_OPTIONS', 'extra');
  throws(() => parseResolvedImage('{}'), 'ERR_INVALID_OPTIONS');
});

test.run();
