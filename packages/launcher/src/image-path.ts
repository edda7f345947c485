import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { ALL_CAPABILITIES } from '@berth-oci/bundle-spec';

/**
 * Where `file` leads inside the image rootfs once symlinks are followed as the container would
 * (absolute targets start at the rootfs, `..` stops at it): an absolute in-container path.
 * Missing components are kept as they are; undefined after 40 links.
 */
export async function resolveInImage(rootfs: string, file: string): Promise<string | undefined> {
  const parts = file.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    let link: string | undefined;
    try {
      const host = path.join(rootfs, ...resolved, part);
      if ((await lstat(host)).isSymbolicLink()) link = await readlink(host);
    } catch {
      // missing: keep the name
    }
    if (link !== undefined) {
      if (++hops > 40) return undefined;
      if (link.startsWith('/')) resolved.length = 0;
      parts.unshift(...link.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    resolved.push(part);
  }
  return `/${resolved.join('/')}`;
}

/** The effective capabilities of this process, by name (from /proc/self/status). */
export async function effectiveCapabilities(): Promise<string[]> {
  try {
    const status = await readFile('/proc/self/status', 'utf8');
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    if (!hex) return [];
    const bits = BigInt(`0x${hex}`);
    return ALL_CAPABILITIES.filter((_, i) => (bits >> BigInt(i)) & 1n);
  } catch {
    return [];
  }
}
