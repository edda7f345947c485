// Test helper: the official runtime-spec JSON schemas (draft-04) in a real validator.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ajvDraft04 from 'ajv-draft-04';

// a CommonJS module: its class is the `default` export of module.exports
const Ajv04 = ajvDraft04.default;

export const SCHEMA_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../test-fixtures/oci-schemas/runtime-spec',
);

const ajv = new Ajv04({ allErrors: true, strict: false });
for (const name of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json'))) {
  // the files carry no `id`: register each under its file name, which is how they refer to each other
  ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, name), 'utf8')), name);
}
const validate = ajv.getSchema('config-schema.json');
if (!validate) throw new Error('config-schema.json did not load');

/** The official schema's errors for `doc`, as text; empty when valid. */
export function ociErrors(doc: unknown): string {
  // round-trip through JSON as a runtime would read the file
  const ok = validate?.(JSON.parse(JSON.stringify(doc)));
  return ok ? '' : ajv.errorsText(validate?.errors, { separator: '\n' });
}
