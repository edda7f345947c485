import { readFile } from 'node:fs/promises';
import { IdmapError } from './errors.js';
import type { IdMapping } from './types.js';

const DECIMAL = /^[0-9]+$/;

/**
 * Parses the text of /proc/<pid>/uid_map or gid_map: per line the id inside the namespace,
 * the id outside it and the count, separated by white space.
 */
export function parseProcIdMap(text: string): IdMapping[] {
  const maps: IdMapping[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (fields.length !== 3 || !fields.every((f) => DECIMAL.test(f))) {
      throw new IdmapError(
        'ERR_IDMAP_PARSE',
        `malformed id map line ${i + 1}: ${JSON.stringify(line)}`,
        { hint: 'each line of an id map is: inside-id outside-id count' },
      );
    }
    const [containerID, hostID, size] = fields.map(Number) as [number, number, number];
    maps.push({ containerID, hostID, size });
  }
  return maps;
}

/** Reads and parses an id map file; by default this process's /proc/self/uid_map. */
export async function readProcIdMap(file = '/proc/self/uid_map'): Promise<IdMapping[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new IdmapError('ERR_IDMAP_READ', `cannot read id map ${file}`, {
      hint: 'user namespaces need a Linux kernel with /proc mounted',
      cause,
    });
  }
  return parseProcIdMap(text);
}
