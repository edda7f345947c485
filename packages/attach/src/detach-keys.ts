import { BerthError } from '@berth/errors';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/**
 * Parses a detach-key spec as docker and podman write it (`ctrl-p,ctrl-q`, `ctrl-a,d`, `ctrl-@`,
 * `ctrl-[`) into the byte sequence that detaches. An empty string disables detaching.
 */
export function parseDetachKeys(spec: string): Buffer {
  if (spec === '') return Buffer.alloc(0);
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    const k = key.trim();
    const ctrl = /^ctrl-(.)$/i.exec(k);
    if (ctrl) {
      const c = (ctrl[1] as string).toLowerCase();
      const code = c.charCodeAt(0);
      if (c >= 'a' && c <= 'z') bytes.push(code - 96);
      else if (c === '@') bytes.push(0);
      else if (c === '[') bytes.push(27);
      else if (c === '\\') bytes.push(28);
      else if (c === ']') bytes.push(29);
      else if (c === '^') bytes.push(30);
      else if (c === '_') bytes.push(31);
      else throw invalid(spec, k);
    } else if (k.length === 1) {
      bytes.push(k.charCodeAt(0));
    } else {
      throw invalid(spec, k);
    }
  }
  return Buffer.from(bytes);
}

function invalid(spec: string, key: string): BerthError {
  return new BerthError('ERR_ATTACH_DETACH_KEYS', `invalid detach key "${key}" in "${spec}"`, {
    hint: 'use keys like ctrl-p,ctrl-q: a comma-separated list of ctrl-<letter> or single characters',
  });
}
