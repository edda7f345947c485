/**
 * Cleans an absolute path inside the container: `//` and `.` go, `..` climbs, a trailing
 * `/` goes. Returns `undefined` when the path is not absolute or `..` would climb above `/`.
 */
export function cleanContainerPath(path: string): string | undefined {
  if (!path.startsWith('/')) return undefined;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** True when `path` is `dir` or below it (both clean and absolute). */
export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}
