import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    // The launcher starts its workers by path next to its own code; once bundled here, that is
    // next to these files.
    'unpack-worker': 'src/workers/unpack-worker.ts',
  },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  // One bundle (with lazily loaded chunks) instead of a few hundred modules: ESM loading was
  // half of a warm `berth exec` here. Native addons stay external.
  noExternal: [/^(?!node-unix-socket)/],
  external: ['node-unix-socket'],
  splitting: true,
  // Bundled CommonJS dependencies (yargs' helpers, cross-spawn) call require().
  banner: {
    js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
  },
});
