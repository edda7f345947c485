import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ociErrors, SCHEMA_DIR } from './oci-schema.js';

// Prove the validator is wired: the spec's own test vectors must come out as labelled.
const vectors = join(SCHEMA_DIR, 'test/config');

const good = readdirSync(join(vectors, 'good'));
const bad = readdirSync(join(vectors, 'bad'));

test('the spec ships test vectors', () => {
  assert.ok(good.length >= 5, 'good vectors');
  assert.ok(bad.length >= 3, 'bad vectors');
});

for (const name of good) {
  test(`official good vector ${name} is valid`, () => {
    const doc = JSON.parse(readFileSync(join(vectors, 'good', name), 'utf8'));
    assert.is(ociErrors(doc), '');
  });
}

for (const name of bad) {
  test(`official bad vector ${name} is rejected`, () => {
    const text = readFileSync(join(vectors, 'bad', name), 'utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return; // invalid-json.json: rejected before the schema, as a runtime would
    }
    assert.not.equal(ociErrors(doc), '');
  });
}

test('the validator rejects what berth must never write', () => {
  assert.match(ociErrors({}), /ociVersion/);
  assert.not.equal(ociErrors({ ociVersion: '1.0.2', process: { args: ['sh'] } }), ''); // no cwd
  assert.not.equal(
    ociErrors({ ociVersion: '1.0.2', linux: { namespaces: [{ type: 'bogus' }] } }),
    '',
  );
  assert.not.equal(
    ociErrors({
      ociVersion: '1.0.2',
      linux: { uidMappings: [{ containerID: 0, hostID: -1, size: 1 }] },
    }),
    '',
  );
  assert.not.equal(ociErrors({ ociVersion: '1.0.2', mounts: [{ source: '/x' }] }), '');
});

test.run();
