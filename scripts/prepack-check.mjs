#!/usr/bin/env node
// Runs as each package's `prepack` (cwd: the package folder): refuses to pack a package whose
// dist/ is missing or older than its sources, so a checkout that was installed but not built
// cannot publish a tarball holding only README.md and package.json.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const dir = process.cwd();
const { name } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));

/** Newest modification time (ms) of the files under `root`, or undefined when there are none. */
function newest(root) {
  let latest;
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) latest = Math.max(latest ?? 0, statSync(p).mtimeMs);
    }
  };
  if (existsSync(root)) walk(root);
  return latest;
}

function refuse(why) {
  process.stderr.write(
    `prepack: ${name}: ${why}\nhint: run \`pnpm build\` at the repository root (\`pnpm exec turbo run build --force\` when turbo reports a cache hit: it leaves dist/ as it was), then pack again\n`,
  );
  process.exit(1);
}

const built = newest(path.join(dir, 'dist'));
if (built === undefined || !existsSync(path.join(dir, 'dist', 'index.js'))) {
  refuse('dist/ is missing: the package has not been built');
}
const sources = newest(path.join(dir, 'src'));
if (sources !== undefined && sources > built) {
  refuse('dist/ is older than src/: the build is out of date');
}
