#!/usr/bin/env node
// Runs after the CLI's bundle is built (cwd: packages/cli): reads esbuild's metafile to learn
// which npm packages the bundle contains, and writes dist/THIRD-PARTY-NOTICES.md with each
// one's name, version, licence and licence text from its folder in node_modules. The
// bundled code ships in the tarball, so their notices must ship with it.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.cwd();
const metafile = path.join(dir, 'dist', 'metafile-esm.json');
if (!existsSync(metafile)) {
  process.stderr.write('third-party-notices: dist/metafile-esm.json is missing (tsup metafile)\n');
  process.exit(1);
}
const { inputs } = JSON.parse(readFileSync(metafile, 'utf8'));
rmSync(metafile);

/** The folder of the package a bundled input file belongs to (the last node_modules/<name>). */
function packageDir(input) {
  const parts = path.resolve(dir, input).split(path.sep);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined; // our own sources and workspace packages (Apache-2.0, ours)
  const scoped = parts[at + 1].startsWith('@');
  return parts.slice(0, at + (scoped ? 3 : 2)).join(path.sep);
}

const packages = new Map();
for (const input of Object.keys(inputs)) {
  const pkgDir = packageDir(input);
  if (!pkgDir || packages.has(pkgDir)) continue;
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  if (pkg.name?.startsWith('@berth-oci/')) continue;
  const licenceFile = readdirSync(pkgDir).find((f) => /^(licen[cs]e|copying)/i.test(f));
  packages.set(pkgDir, {
    name: pkg.name,
    version: pkg.version,
    license: typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'UNKNOWN'),
    text: licenceFile ? readFileSync(path.join(pkgDir, licenceFile), 'utf8').trim() : undefined,
  });
}

const list = [...packages.values()].sort((a, b) => a.name.localeCompare(b.name));
const missing = list.filter((p) => !p.text);
if (missing.length > 0) {
  process.stderr.write(
    `third-party-notices: no licence file in ${missing.map((p) => p.name).join(', ')}\n`,
  );
  process.exit(1);
}
const out = [
  '# Third-party notices',
  '',
  'The `berth` bundle in this package contains code from these packages:',
  '',
  ...list.map((p) => `- ${p.name} ${p.version} (${p.license})`),
  '',
  ...list.flatMap((p) => [`## ${p.name} ${p.version}`, '', '```text', p.text, '```', '']),
];
writeFileSync(path.join(dir, 'dist', 'THIRD-PARTY-NOTICES.md'), out.join('\n'));
process.stdout.write(`third-party-notices: ${list.length} bundled packages\n`);
