/**
 * Writes berth's man pages into dist/man/ (run by the build after tsup; the package's `man`
 * field installs them). Run with `node --import=tsx scripts/man-pages.ts`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { berthTree, VERSION } from '../src/main.js';
import { manPages } from '../src/man-page.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'man');
mkdirSync(dir, { recursive: true });
for (const [name, text] of manPages(berthTree(), VERSION)) {
  writeFileSync(path.join(dir, name), text);
}
