import { defineConfig } from 'tsup';

export default defineConfig({
  // The unpack worker is another entry: it is started as its own process inside the outer
  // user namespace (see src/rootfs.ts; oci-bundle.ts uses it too).
  entry: ['src/index.ts', 'src/unpack-worker.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
