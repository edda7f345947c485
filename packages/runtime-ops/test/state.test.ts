import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ajvDraft04 from 'ajv-draft-04';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isUnknownContainer } from '../src/ops.js';
import { parseState, runtimeErrorMessage, toOciState } from '../src/state.js';

const SCHEMA_DIR = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../test-fixtures/oci-schemas/runtime-spec',
);
const ajv = new ajvDraft04.default({ allErrors: true, strict: false });
for (const name of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json')))
  ajv.addSchema(JSON.parse(readFileSync(path.join(SCHEMA_DIR, name), 'utf8')), name);
const validate = ajv.getSchema('state-schema.json');

const RUNC =
  '{"ociVersion":"1.0.2-dev","id":"c1","pid":15371,"status":"created","bundle":"/b","rootfs":"/b/rootfs","created":"2026-11-28T13:03:33.941397503Z","owner":""}';
const CRUN = `{
  "ociVersion": "1.0.0",
  "id": "c2",
  "pid": 22713,
  "status": "paused",
  "bundle": "/b2",
  "rootfs": "rootfs",
  "created": "2026-11-28T13:05:33.715554Z",
  "systemd-scope": "",
  "owner": "root"
}`;

test('parseState reads runc and crun states', () => {
  const r = parseState(RUNC, 'c1');
  assert.is(r.status, 'created');
  assert.is(r.pid, 15371);
  assert.is(r.rootfs, '/b/rootfs');
  const c = parseState(CRUN);
  assert.is(c.status, 'paused');
  assert.is((c as Record<string, unknown>)['systemd-scope'], '', 'unknown fields pass through');
});

test('parseState: a stopped state without pid has pid 0', () => {
  assert.is(parseState('{"ociVersion":"1","id":"x","status":"stopped","bundle":"/b"}').pid, 0);
});

test('parseState refuses what is not a state, naming the container', () => {
  assert.throws(() => parseState('nope', 'c9'), /no JSON state for container "c9"/);
  assert.throws(
    () => parseState('{"id":"x","status":"running","bundle":"/b"}', 'x'),
    /invalid state/,
  );
  assert.throws(
    () => parseState('{"ociVersion":"1","id":"x","status":"sleeping","bundle":"/b"}'),
    /invalid state/,
  );
  assert.throws(() =>
    parseState('{"ociVersion":"1","id":"x","status":"running","bundle":"/b","pid":-1}'),
  );
});

test("toOciState: the OCI state shape, with the runtime's status (paused stays paused)", () => {
  for (const text of [RUNC, CRUN]) {
    const doc = toOciState(parseState(text), { runtime: 'crun' });
    // `paused` is a state the runtime defines beyond the schema's four; all else conforms
    const asSchema = doc.status === 'paused' ? { ...doc, status: 'running' } : doc;
    assert.ok(validate?.(asSchema), ajv.errorsText(validate?.errors));
  }
  const paused = toOciState(parseState(CRUN));
  assert.is(paused.status, 'paused', 'as crun state and SingularityCE say');
  assert.not.ok('paused' in paused);
  assert.not.ok('owner' in paused);
  assert.is(toOciState(parseState(RUNC)).status, 'created');
});

test('runtimeErrorMessage: logrus text, plain crun lines, warnings skipped', () => {
  assert.is(
    runtimeErrorMessage(
      'time="2026-11-28T14:59:50Z" level=warning msg="runc pause may fail"\ntime="2026-11-28T14:59:50Z" level=error msg="cannot toggle freezer: \\"x\\""\n',
    ),
    'cannot toggle freezer: "x"',
  );
  assert.is(
    runtimeErrorMessage('cannot pause the container without a cgroup\n'),
    'cannot pause the container without a cgroup',
  );
  assert.is(runtimeErrorMessage(''), '');
});

test('isUnknownContainer: runc and crun wordings', () => {
  assert.ok(isUnknownContainer('container does not exist', 'c1'));
  assert.ok(
    isUnknownContainer('error opening file `/r/c1/status`: No such file or directory', 'c1'),
  );
  assert.ok(isUnknownContainer("cannot open directory '/r/c1': No such file or directory", 'c1'));
  assert.not.ok(isUnknownContainer('open /x/config.json: No such file or directory', 'c1'));
  assert.not.ok(isUnknownContainer('cannot pause the container without a cgroup', 'c1'));
});

test.run();
