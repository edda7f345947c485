#!/usr/bin/env node
// The layering check: runs dependency-cruiser with the rules of .dependency-cruiser.cjs (the
// dependency rules of docs/architecture.md) on packages/*/src, which must break none, and on
// test-fixtures/layering, where every file must break exactly the rules its first line
// names (`// expect: <rule> ...` or `// expect: none`), so that a rule which stops firing
// fails this check too. Exits non-zero on any violation or mismatch.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const config = path.join(root, '.dependency-cruiser.cjs');
const depcruise = path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const fixture = path.join(root, 'test-fixtures/layering');

/** Runs dependency-cruiser in `cwd` on each package's src/ and returns its violations. */
function violations(cwd) {
  const dirs = readdirSync(path.join(cwd, 'packages'))
    .map((name) => `packages/${name}/src`)
    .filter((dir) => {
      try {
        return readdirSync(path.join(cwd, dir)).length > 0;
      } catch {
        return false;
      }
    });
  const r = spawnSync(
    process.execPath,
    [depcruise, '--config', config, '--output-type', 'json', ...dirs],
    { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.error) throw r.error;
  let result;
  try {
    result = JSON.parse(r.stdout);
  } catch {
    process.stderr.write(r.stderr);
    throw new Error(`dependency-cruiser failed in ${cwd} (exit ${r.status})`);
  }
  return result.summary.violations.map((v) => ({ from: v.from, to: v.to, rule: v.rule.name }));
}

/** Links `node_modules/@berth-oci/<name>` to each fixture package, as pnpm links the real ones. */
function linkFixturePackages() {
  const scope = path.join(fixture, 'node_modules/@berth-oci');
  mkdirSync(scope, { recursive: true });
  for (const name of readdirSync(path.join(fixture, 'packages'))) {
    const link = path.join(scope, name);
    if (!existsSync(link)) symlinkSync(path.join('..', '..', 'packages', name), link);
  }
}

const unbuilt = readdirSync(path.join(root, 'packages')).filter(
  (name) => !existsSync(path.join(root, 'packages', name, 'dist/index.js')),
);
if (unbuilt.length > 0) {
  process.stderr.write(`layering: build the packages first (no dist/ in ${unbuilt.join(', ')})\n`);
  process.exit(1);
}

let failed = 0;

const real = violations(root);
for (const v of real) process.stdout.write(`layering: ${v.rule}: ${v.from} → ${v.to}\n`);
failed += real.length;
process.stdout.write(`packages/*/src: ${real.length} violation(s)\n`);

// The rules themselves: each fixture file breaks exactly what it says.
linkFixturePackages();
const found = new Map();
for (const v of violations(fixture)) {
  if (!found.has(v.from)) found.set(v.from, new Set());
  found.get(v.from).add(v.rule);
}
let files = 0;
for (const pkg of readdirSync(path.join(fixture, 'packages'))) {
  const src = path.join(fixture, 'packages', pkg, 'src');
  for (const file of existsSync(src) ? readdirSync(src) : []) {
    const rel = `packages/${pkg}/src/${file}`;
    const first = readFileSync(path.join(fixture, rel), 'utf8').split('\n')[0] ?? '';
    const m = /^\/\/ expect: ([a-z -]+?)(?: \(.*\))?$/.exec(first);
    if (!m)
      throw new Error(
        `${rel}: the first line must be "// expect: <rule> ..." or "// expect: none"`,
      );
    const want = m[1] === 'none' ? [] : m[1].split(/\s+/).sort();
    const got = [...(found.get(rel) ?? [])].sort();
    files += 1;
    if (want.join(' ') !== got.join(' ')) {
      failed += 1;
      process.stdout.write(
        `layering fixture: ${rel} broke [${got.join(' ')}], expected [${want.join(' ')}]\n`,
      );
    }
  }
}
process.stdout.write(
  `test-fixtures/layering: ${files} file(s) checked against their expectations\n`,
);
process.exit(failed > 0 ? 1 : 0);
