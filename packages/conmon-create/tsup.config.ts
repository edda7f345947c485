import { defineConfig } from 'tsup';

export default defineConfig({
  // log-convert is a second entry: conmon runs it as its exit command (src/log.ts).
  entry: ['src/index.ts', 'src/log-convert.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
