#!/usr/bin/env node
// Builds a small demo OCI image from Debian's busybox-static (with the project's own image
// builder, e2e/src/images.ts) and runs it with `berth run`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const layout = path.join(root, '.berth-work', 'demo-layout');
const berth = path.join(root, 'packages', 'cli', 'dist', 'cli.js');

if (!existsSync(path.join(layout, 'index.json'))) {
  process.stderr.write('quickstart: building the demo image from busybox-static\n');
  const r = spawnSync(
    'pnpm',
    ['--filter', '@berth-oci/e2e', 'exec', 'tsx', 'src/images.ts', 'demo', layout, 'demo'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const image = `oci:${layout}:demo`;
process.stderr.write(`quickstart: berth run ${image}\n`);
const r = spawnSync(process.execPath, [berth, 'run', image], { stdio: 'inherit' });
process.exit(r.status ?? 1);
