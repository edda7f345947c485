#!/usr/bin/env node
// The READMEs' examples are real files (packages/<name>/examples/*.ts, importing the package by
// its own name): this check fails when
//  (a) a README's block between `<!-- example: examples/FILE.ts -->` and `<!-- /example -->`
//      differs from the file, or names a file that does not exist;
//  (b) the examples do not type-check (tsc -p packages/<name>/examples: NodeNext, strict);
//  (c) an example that needs no host container tools fails when run (node --import=tsx, in
//      its package folder, against the built dist/). Examples whose first lines say
//      `// Needs: ...` (root, crun, conmon, an image) are run by e2e/test/examples.test.ts.
// Exits 1 naming each problem.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const problems = [];
const MARKER = /<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```\n<!-- \/example -->/g;

/** The examples a package has: examples/*.ts. */
const examplesOf = (dir) =>
  existsSync(path.join(dir, 'examples'))
    ? readdirSync(path.join(dir, 'examples'))
        .filter((f) => f.endsWith('.ts'))
        .sort()
    : [];

/** Whether an example needs host tools (a `// Needs:` line among its first comment lines). */
const needsHost = (text) => /^\/\/ Needs: /m.test(text.split('\n').slice(0, 12).join('\n'));

let shown = 0;
let typechecked = 0;
let ran = 0;
for (const name of readdirSync(path.join(root, 'packages')).sort()) {
  const dir = path.join(root, 'packages', name);
  const readme = path.join(dir, 'README.md');
  const files = examplesOf(dir);
  const referenced = new Set();
  if (existsSync(readme)) {
    const text = readFileSync(readme, 'utf8');
    for (const m of text.matchAll(MARKER)) {
      const file = path.join(dir, m[1]);
      referenced.add(path.relative(path.join(dir, 'examples'), file));
      if (!existsSync(file)) {
        problems.push(`packages/${name}/README.md shows ${m[1]}, which does not exist`);
      } else if (readFileSync(file, 'utf8') !== m[2]) {
        problems.push(
          `packages/${name}/README.md: the block of ${m[1]} differs from the file (copy the file into the block)`,
        );
      } else shown++;
    }
    if (text.includes('<!-- example:') && text.match(MARKER) === null) {
      problems.push(`packages/${name}/README.md: an example marker without its \`\`\`ts block`);
    }
  }
  for (const f of files) {
    if (!referenced.has(f)) problems.push(`packages/${name}/examples/${f} is in no README block`);
  }
  if (files.length === 0) continue;
  const tsc = spawnSync(
    'pnpm',
    ['exec', 'tsc', '--noEmit', '-p', path.join('packages', name, 'examples')],
    { cwd: root, encoding: 'utf8' },
  );
  if (tsc.status !== 0) {
    process.stderr.write(`${tsc.stdout}${tsc.stderr}`);
    problems.push(`packages/${name}/examples do not type-check (tsc's output is above)`);
  } else typechecked += files.length;
  for (const f of files) {
    const file = path.join(dir, 'examples', f);
    if (needsHost(readFileSync(file, 'utf8'))) continue;
    const r = spawnSync(process.execPath, ['--import=tsx', path.join('examples', f)], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.status !== 0) {
      process.stderr.write(`${r.stdout}${r.stderr}`);
      problems.push(
        `packages/${name}/examples/${f} failed (exit ${r.status ?? r.signal}; its output is above)`,
      );
    } else ran++;
  }
}
process.stdout.write(
  `examples: ${shown} README blocks match their files, ${typechecked} files type-check, ${ran} ran\n`,
);
for (const p of problems) process.stderr.write(`check-examples: ${p}\n`);
process.exit(problems.length > 0 || shown === 0 ? 1 : 0);
