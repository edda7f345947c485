import { defineConfig } from 'tsup';

export default defineConfig({
  // The unpack worker is a second entry: it is started as its own process inside the outer
  // user namespace (see src/rootfs.ts).
  entry: ['src/index.ts', 'src/unpack-worker.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
