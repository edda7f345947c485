import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

// Helper entries (package.json `berth.helpers`) are programs of their own, built next to
// index.js: conmon-create finds each as `new URL('./<name>.js', import.meta.url)`.
const { berth } = JSON.parse(readFileSync('package.json', 'utf8')) as {
  berth: { helpers: string[] };
};

export default defineConfig({
  entry: ['src/index.ts', ...berth.helpers.map((name) => `src/${name}.ts`)],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
