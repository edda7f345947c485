// The dependency rules of docs/architecture.md ("Dependency rules"), checked by
// `node scripts/check-layering.mjs` (one of the checks of scripts/test.mjs).
//
// An import of another berth package is matched by the name it is imported by: it resolves
// through a node_modules link (`packages/x/node_modules/@berth-oci/<name>/dist/...`; links
// are kept as they are), or stays unresolved (`@berth-oci/<name>`) when that package is not
// a dependency. Telling `import type` apart needs the import resolved, so the check runs on
// a built tree.

/** A path pattern that matches an import of one of the named berth packages. */
const pkg = (names) => `(^|node_modules/)@berth-oci/(${names})(/|$)`;
const anyPkg = pkg('[^/]+');

/** A rule: modules of the `from` packages may import no berth package but `allowed`. */
function only(name, from, allowed, comment) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: `^packages/(${from})/src/` },
    to: { path: anyPkg, pathNot: allowed ? pkg(allowed) : undefined },
  };
}

module.exports = {
  forbidden: [
    only(
      'errors-stands-alone',
      'errors',
      null,
      'errors is the bottom layer: it imports no berth package',
    ),
    only('lock-uses-only-errors', 'lock', 'errors', 'lock builds on errors alone'),
    only(
      'pure-packages',
      'idmap|bundle-spec|mounts',
      'errors|bundle-spec',
      'idmap, bundle-spec and mounts are pure: they import errors, and bundle-spec for its types only',
    ),
    {
      name: 'bundle-spec-types-only',
      comment: 'the pure packages may use bundle-spec for its types, never for its code',
      severity: 'error',
      from: { path: '^packages/(idmap|mounts)/src/' },
      to: { path: pkg('bundle-spec'), dependencyTypesNot: ['type-only'] },
    },
    only(
      'standalone-packages',
      'runtime-ops|image-extract',
      'errors|lock',
      'runtime-ops and image-extract stand alone: they import errors and lock only',
    ),
    only(
      'oci-packages-build-on-runtime-ops',
      'conmon-create|attach',
      'errors|lock|runtime-ops',
      'conmon-create and attach build on runtime-ops (and errors, lock) only',
    ),
    only(
      'launcher-composes-libraries',
      'launcher',
      'errors|lock|idmap|bundle-spec|mounts|image-extract|runtime-ops',
      'launcher composes the libraries; it never imports the oci packages or the cli',
    ),
    {
      name: 'nothing-imports-cli',
      comment: 'the cli is the top: no package imports it',
      severity: 'error',
      from: { path: '^packages/', pathNot: '^packages/cli/' },
      to: { path: pkg('cli') },
    },
    {
      name: 'no-deep-package-import',
      comment:
        'import another package by its name (or an exported entry), never its src/ or dist/ files',
      severity: 'error',
      from: { path: '^packages/' },
      // by name (left unresolved, as `exports` hides the file), or an entry that points into src/
      to: { path: ['^@berth-oci/[^/]+/(src|dist)(/|$)', 'node_modules/@berth-oci/[^/]+/src/'] },
    },
    {
      name: 'no-unresolvable-package-import',
      comment:
        'a berth package must be a declared dependency, imported through an entry it exports',
      severity: 'error',
      from: { path: '^packages/' },
      to: { couldNotResolve: true, path: '^@berth-oci/' },
    },
    {
      name: 'no-reaching-into-another-package',
      comment: 'a relative import must stay inside its own package',
      severity: 'error',
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/', pathNot: ['^packages/$1/', '/node_modules/'] },
    },
    {
      name: 'no-circular',
      comment:
        'no import cycle between the modules of a package (a cycle closed only by `import type` vanishes at run time and is allowed)',
      severity: 'error',
      from: { path: '^packages/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-unresolvable-relative',
      comment: 'a relative import must name a file that exists',
      severity: 'error',
      from: { path: '^packages/' },
      to: { couldNotResolve: true, path: '^\\.' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // keep node_modules links, so a package import shows the name it was imported by
    preserveSymlinks: true,
    // `import type` counts too (bundle-spec-types-only needs to see it)
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['types', 'import', 'default'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
  },
};
