#!/usr/bin/env node
// Packs every package with `pnpm pack` into a temporary folder and checks each tarball's file
// list: what a user needs is there (the built entry and types, package.json, README.md,
// LICENSE; for the CLI its bin, man pages and third-party notices), and sources, tests and source maps
// are not. Exits 1 naming each problem.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(path.join(tmpdir(), 'berth-pack-'));
const problems = [];
try {
  for (const name of readdirSync(path.join(root, 'packages')).sort()) {
    const dir = path.join(root, 'packages', name);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const dest = path.join(out, name);
    try {
      execFileSync('pnpm', ['pack', '--pack-destination', dest], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      process.stderr.write(`${e.stdout ?? ''}${e.stderr ?? ''}`);
      problems.push(`${pkg.name}: pnpm pack failed (its output is above)`);
      continue;
    }
    const [tarball] = readdirSync(dest).filter((f) => f.endsWith('.tgz'));
    const files = execFileSync('tar', ['tzf', path.join(dest, tarball)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    const required = ['dist/index.js', 'dist/index.d.ts', 'package.json', 'README.md', 'LICENSE'];
    for (const bin of Object.values(pkg.bin ?? {})) required.push(path.posix.normalize(bin));
    // man pages (the CLI's berth.1, berth-exec.1, ...), which npm install -g links
    for (const page of [pkg.man ?? []].flat()) required.push(path.posix.normalize(page));
    if (pkg.name === '@berth-oci/cli') required.push('dist/THIRD-PARTY-NOTICES.md');
    for (const f of required) {
      if (!files.includes(f)) problems.push(`${pkg.name}: ${f} is missing from the tarball`);
    }
    for (const f of files) {
      if (/^(src|test)\//.test(f) || f.endsWith('.map')) {
        problems.push(`${pkg.name}: ${f} should not be in the tarball`);
      }
    }
    process.stdout.write(`${pkg.name}: ${files.length} files\n`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
for (const p of problems) process.stderr.write(`pack-check: ${p}\n`);
process.exit(problems.length > 0 ? 1 : 0);
