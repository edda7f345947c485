import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** A helper program a package declares: it runs as its own process, started by path. */
export interface HelperEntry {
  /** The entry's name: the package looks for `./<name>.js` next to its own module. */
  name: string;
  /** The package that declares it. */
  pkg: string;
  /** Its build output in that package (`dist/<name>.js`). */
  file: string;
}

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  berth?: { helpers?: string[] };
}

/**
 * The helper entries of `dir`'s package and of every `@berth-oci/` package it depends on, however
 * deep: each lists its helpers in package.json (`"berth": { "helpers": ["log-convert"] }`) and
 * finds them as `new URL('./<name>.js', import.meta.url)`. A bundle of those packages must emit
 * each helper as `<name>.js` beside its own chunks, so that the same lookup works there.
 * `dir`'s own devDependencies count too: the CLI bundles its berth packages, so it lists them
 * there and not as dependencies of the published package. Throws when two packages declare one
 * name.
 */
export function helperEntries(dir: string): HelperEntry[] {
  const found = new Map<string, HelperEntry>();
  const seen = new Set<string>();
  const visit = (pkgDir: string, top = false) => {
    const file = path.join(pkgDir, 'package.json');
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
    for (const name of pkg.berth?.helpers ?? []) {
      const other = found.get(name);
      if (other && other.pkg !== pkg.name) {
        throw new Error(`helper entry "${name}" is declared by both ${other.pkg} and ${pkg.name}`);
      }
      found.set(name, { name, pkg: pkg.name, file: path.join(pkgDir, 'dist', `${name}.js`) });
    }
    const require = createRequire(file);
    const deps = { ...pkg.dependencies, ...(top ? pkg.devDependencies : {}) };
    for (const dep of Object.keys(deps)) {
      if (!dep.startsWith('@berth-oci/') || seen.has(dep)) continue;
      seen.add(dep);
      visit(path.dirname(realpathSync(require.resolve(`${dep}/package.json`))));
    }
  };
  visit(path.resolve(dir), true);
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}
