import { defineConfig } from 'tsup';
import { helperEntries } from './helper-entries.js';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    // Every helper entry the bundled packages declare (their package.json `berth.helpers`),
    // emitted as dist/<name>.js: the packages find them next to their own code, which in this
    // bundle is dist/ (test/helper-entries.test.ts checks that each one is there).
    ...Object.fromEntries(helperEntries('.').map((h) => [h.name, h.file])),
  },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  // Lists the bundled inputs for scripts/third-party-notices.mjs (which removes it).
  metafile: true,
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
