#!/usr/bin/env node
// Runs every unit test file of every package, then the e2e suite, and ends with one line
// `N passed, N failed`. Fails when a test fails, a suite crashes, or no test ran at all.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2); // optional: suite names to run (e.g. idmap e2e)
const suites = [];
for (const name of readdirSync(path.join(root, 'packages')).sort()) {
  const dir = path.join(root, 'packages', name);
  if (existsSync(path.join(dir, 'test'))) suites.push({ name, dir });
}
suites.push({ name: 'e2e', dir: path.join(root, 'e2e') });

const strip = (s) => s.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');

function runSuite({ name, dir }) {
  return new Promise((resolve) => {
    const files = existsSync(path.join(dir, 'test'))
      ? readdirSync(path.join(dir, 'test')).filter((f) => f.endsWith('.test.ts'))
      : [];
    if (files.length === 0) return resolve({ name, passed: 0, failed: 0, empty: true });
    process.stdout.write(`\n=== ${name} ===\n`);
    const child = spawn(
      process.execPath,
      ['--import=tsx', path.join(root, 'node_modules/uvu/bin.js'), 'test', '\\.test\\.ts$'],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FORCE_COLOR: '0' },
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    child.on('close', (code) => {
      const text = strip(out);
      const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        // the suite crashed before uvu's summary: count it as one failure
        resolve({ name, passed: 0, failed: 1, crashed: true, code });
      } else {
        const failed = Math.max(total - passed, code === 0 ? 0 : 1);
        resolve({ name, passed, failed });
      }
    });
  });
}

// Checks that count as one test each: formatting and lint, type checks of sources and
// tests, publint of every package, the layering rules of docs/architecture.md, and the file
// list of every package's tarball (scripts/pack-check.mjs), and the README examples
// (scripts/check-examples.mjs: each README block is its file, they type-check, the ones that
// need no host tools run).
const checks = [
  { name: 'lint', cmd: 'pnpm', args: ['exec', 'biome', 'check', '.'] },
  {
    name: 'typecheck',
    cmd: 'pnpm',
    args: ['exec', 'turbo', 'run', 'typecheck', '--output-logs=errors-only'],
  },
  {
    name: 'publint',
    cmd: 'pnpm',
    args: ['exec', 'turbo', 'run', 'publint', '--output-logs=errors-only'],
  },
  { name: 'layering', cmd: process.execPath, args: ['scripts/check-layering.mjs'] },
  { name: 'pack', cmd: process.execPath, args: ['scripts/pack-check.mjs'] },
  { name: 'examples', cmd: process.execPath, args: ['scripts/check-examples.mjs'] },
];

function runCheck({ name, cmd, args }) {
  return new Promise((resolve) => {
    process.stdout.write(`\n=== ${name} ===\n`);
    const child = spawn(cmd, args, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
    });
    child.on('close', (code) =>
      resolve({ name, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1 }),
    );
  });
}

let passed = 0;
let failed = 0;
const report = [];
for (const check of checks) {
  if (only.length > 0 && !only.includes(check.name)) continue;
  const r = await runCheck(check);
  passed += r.passed;
  failed += r.failed;
  report.push(`${r.name}: ${r.passed ? 'ok' : 'FAILED'}`);
}
for (const suite of suites) {
  if (only.length > 0 && !only.includes(suite.name)) continue;
  const r = await runSuite(suite);
  if (r.empty) continue;
  passed += r.passed;
  failed += r.failed;
  report.push(`${r.name}: ${r.passed} passed, ${r.failed} failed${r.crashed ? ' (crashed)' : ''}`);
}
process.stdout.write(`\n${report.join('\n')}\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
