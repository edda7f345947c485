import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { minimalSpec } from '../src/builders.js';
import { validateSpec } from '../src/io.js';
import type { Spec } from '../src/schemas.js';
import { rejects } from './helpers.js';
import { ociErrors, SCHEMA_DIR } from './oci-schema.js';

// biome-ignore lint/suspicious/noExplicitAny: the mutations below reach into any field, on purpose
type Loose = any;

function mutate(change: (spec: Loose) => void): unknown {
  const spec: Loose = structuredClone(minimalSpec());
  change(spec);
  return spec;
}

test('validateSpec returns the spec and keeps fields it does not know', () => {
  const spec = { ...minimalSpec(), hooks: { prestart: [] }, domainname: 'x' };
  const out = validateSpec(spec) as Spec & { hooks?: unknown };
  assert.equal(out.hooks, { prestart: [] });
  assert.is(out.domainname, 'x');
});

test('validateSpec accepts the official Linux good vectors that have a process and a root', () => {
  const dir = join(SCHEMA_DIR, 'test/config/good');
  for (const name of ['minimal-for-start.json', 'spec-example.json']) {
    const doc = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    assert.equal(validateSpec(doc), doc, name);
  }
});

// Each of these is something berth must never write. Where the official schema also
// rejects it, both must agree.
for (const [what, change, officialRejects] of [
  ['no ociVersion', (s) => delete s.ociVersion, true],
  ['a non-semver ociVersion', (s) => (s.ociVersion = 'latest'), false],
  ['no process', (s) => delete s.process, false],
  ['no root', (s) => delete s.root, false],
  ['an empty root path', (s) => (s.root.path = ''), false],
  ['a relative cwd', (s) => (s.process.cwd = 'tmp'), false],
  ['no cwd', (s) => delete s.process.cwd, true],
  ['empty args', (s) => (s.process.args = []), false],
  ['a string uid', (s) => (s.process.user.uid = '0'), true],
  ['a uid above uint32', (s) => (s.process.user.uid = 2 ** 32), true],
  ['a bad capability', (s) => (s.process.capabilities = { bounding: ['chown'] }), false],
  ['an env entry without =', (s) => (s.process.env = ['PATH']), false],
  ['a mount without destination', (s) => (s.mounts = [{ source: '/x' }]), true],
  ['a relative mount destination', (s) => (s.mounts = [{ destination: 'x' }]), false],
  ['an empty mount option', (s) => (s.mounts = [{ destination: '/x', options: [''] }]), false],
  ['an unknown namespace', (s) => s.linux.namespaces.push({ type: 'bogus' }), true],
  ['a duplicate namespace', (s) => s.linux.namespaces.push({ type: 'ipc' }), false],
  [
    'id mappings without a user namespace',
    (s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
    false,
  ],
  [
    'a zero-size id mapping',
    (s) => {
      s.linux.namespaces.push({ type: 'user' });
      s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 0 }];
    },
    false,
  ],
  [
    'an id mapping past uint32',
    (s) => {
      s.linux.namespaces.push({ type: 'user' });
      s.linux.gidMappings = [{ containerID: 4294967295, hostID: 0, size: 2 }];
    },
    false,
  ],
  ['a hostname without a uts namespace', (s) => (s.hostname = 'box'), false],
  ['a non-string annotation', (s) => (s.annotations = { a: 1 }), true],
  [
    'an rlimit with soft above hard',
    (s) => (s.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 2, hard: 1 }]),
    false,
  ],
  ['a masked path that is relative', (s) => (s.linux.maskedPaths = ['proc/kcore']), false],
] as [string, (s: Loose) => void, boolean][]) {
  test(`validateSpec refuses ${what}`, async () => {
    const spec = mutate(change);
    const e = await rejects(
      () => validateSpec(spec),
      'ERR_SPEC_INVALID',
      /^invalid runtime spec: /,
    );
    assert.ok(e.hint);
    if (officialRejects) assert.not.equal(ociErrors(spec), '', 'official schema should agree');
  });
}

test('validateSpec names the failing field', async () => {
  const e = await rejects(
    () => validateSpec(mutate((s) => (s.process.cwd = 'tmp'))),
    'ERR_SPEC_INVALID',
  );
  assert.match(e.message, /absolute/);
  assert.match(e.message, /process\.cwd/);
});

test.run();
