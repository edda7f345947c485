import { AttachError } from './errors.js';

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

function invalid(spec: string, key: string): AttachError {
  return new AttachError('ERR_ATTACH_DETACH_KEYS', `invalid detach key "${key}" in "${spec}"`, {
    hint: 'use keys like ctrl-p,ctrl-q: a comma-separated list of ctrl-<letter> or single characters',
  });
}

/**
 * Watches input for the detach sequence, as podman does: bytes that could start the sequence
 * are held back until it is complete (detach) or broken (they are passed on with the rest).
 */
export class DetachKeyMatcher {
  readonly keys: Buffer;
  #held = 0;

  constructor(keys: Buffer) {
    this.keys = keys;
  }

  /**
   * Feeds a chunk of input: `forward` is what to send to the container; `detached` is true when
   * the sequence completed (what followed it in the chunk is dropped).
   */
  push(chunk: Buffer): { forward: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { forward: chunk, detached: false };
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.#held]) {
        this.#held++;
        if (this.#held === this.keys.length) {
          this.#held = 0;
          return { forward: Buffer.from(out), detached: true };
        }
        continue;
      }
      // the sequence broke: pass on what was held, then retry this byte as a new start
      for (let i = 0; i < this.#held; i++) out.push(this.keys[i] as number);
      this.#held = 0;
      if (byte === this.keys[0]) {
        this.#held = 1;
        if (this.keys.length === 1) return { forward: Buffer.from(out), detached: true };
      } else out.push(byte);
    }
    return { forward: Buffer.from(out), detached: false };
  }

  /** Bytes held back (a partial sequence), to pass on at end of input. */
  flush(): Buffer {
    const held = this.keys.subarray(0, this.#held);
    this.#held = 0;
    return Buffer.from(held);
  }
}
