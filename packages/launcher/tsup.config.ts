import { defineConfig } from 'tsup';

export default defineConfig({
  // The unpack workers are more entries: each is started as its own process inside the outer
  // user namespace (see src/rootfs.ts and src/oci-bundle.ts).
  entry: ['src/index.ts', 'src/unpack-worker.ts', 'src/oci-bundle-worker.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
