import { closeSync, constants as fsc, fstatSync, openSync, readSync } from 'node:fs';
import { ImageError, q } from '../errors.js';

/** A regular file inside an uncompressed tar archive. */
export interface ArchiveMember {
  /** Offset of the member's data in the archive. */
  offset: number;
  size: number;
}

/** The regular files of a tar archive by cleaned name (`./a/b` → `a/b`); the last duplicate wins. */
export type ArchiveIndex = Map<string, ArchiveMember>;

const BLOCK = 512;
const MAX_META = 1 << 20;
const MAX_MEMBERS = 1_000_000;
const ZERO = Buffer.alloc(BLOCK);

function invalid(
  file: string,
  what: string,
  hint = 'the archive is corrupt; create it again',
): ImageError {
  return new ImageError('ERR_IMAGE_ARCHIVE_INVALID', `image archive ${q(file)} ${what}`, { hint });
}

function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end === -1 || end > off + len ? off + len : end);
}

function num(b: Buffer, off: number, len: number): number {
  if ((b[off] as number) & 0x80) {
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + (b[i] as number);
    return n + ((b[off] as number) & 0x3f) * 256 ** (len - 1);
  }
  const s = b
    .toString('latin1', off, off + len)
    .replace(/[\0 ]+$/g, '')
    .trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return Number.NaN;
  return Number.parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
  return num(h, 148, 8) === sum;
}

/** `./a//b/` → `a/b`; names that climb (`..`) are kept as they are and can never match a lookup. */
function cleanMemberName(name: string): string {
  return name
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');
}

function paxPath(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp === -1) break;
    const len = Number.parseInt(data.toString('latin1', i, sp), 10);
    if (!Number.isSafeInteger(len) || len <= 0 || i + len > data.length) break;
    const rec = data.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) {
      const k = rec.slice(0, eq);
      const v = rec.slice(eq + 1);
      if (k === 'path') out.path = v;
      else if (k === 'size' && /^\d+$/.test(v)) out.size = Number(v);
    }
    i += len;
  }
  return out;
}

/** What compression a file starts with. */
export function sniffCompression(head: Buffer): 'gzip' | 'zstd' | 'none' {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/**
 * Indexes the regular files of an uncompressed tar archive by reading only its headers
 * (ustar names and prefixes, GNU long names, PAX paths and sizes, base-256 sizes). Header
 * checksums are verified; a member that runs past the end of the file is an error.
 */
export function indexArchive(file: string): ArchiveIndex {
  let fd: number;
  try {
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ImageError(
      code === 'ENOENT' ? 'ERR_IMAGE_NOT_FOUND' : 'ERR_IMAGE_ARCHIVE_INVALID',
      code === 'ENOENT'
        ? `image archive ${q(file)} does not exist`
        : `cannot open image archive ${q(file)}`,
      { hint: 'check the path of the archive', cause },
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw invalid(file, 'is not a regular file', 'name a tar file');
    const size = st.size;
    const h = Buffer.alloc(BLOCK);
    const index: ArchiveIndex = new Map();
    let pos = 0;
    let longName: string | undefined;
    let pax: { path?: string; size?: number } = {};
    let first = true;
    for (;;) {
      if (pos + BLOCK > size) {
        if (first && size === 0) throw invalid(file, 'is empty');
        throw invalid(file, 'is truncated (no end-of-archive marker)');
      }
      readSync(fd, h, 0, BLOCK, pos);
      if (h.equals(ZERO)) break;
      if (first) {
        const c = sniffCompression(h);
        if (c !== 'none') {
          throw invalid(
            file,
            `is ${c}-compressed`,
            `decompress it first (${c === 'gzip' ? 'gunzip' : 'unzstd'}): archives are read in place`,
          );
        }
      }
      if (!checksumOk(h)) {
        throw invalid(
          file,
          first ? 'is not a tar archive' : `has a bad header checksum at byte ${pos}`,
        );
      }
      first = false;
      const type = String.fromCharCode(h[156] as number);
      let msize = num(h, 124, 12);
      if (pax.size !== undefined) msize = pax.size;
      if (!Number.isSafeInteger(msize) || msize < 0)
        throw invalid(file, `has a bad size at byte ${pos}`);
      const data = pos + BLOCK;
      if (data + msize > size)
        throw invalid(file, `is truncated (a member runs past its end at byte ${pos})`);
      const next = data + Math.ceil(msize / BLOCK) * BLOCK;
      if (type === 'L' || type === 'x') {
        if (msize > MAX_META) throw invalid(file, `has an oversized ${type} header at byte ${pos}`);
        const b = Buffer.alloc(msize);
        readSync(fd, b, 0, msize, data);
        if (type === 'L') longName = cstr(b, 0, b.length);
        else pax = paxPath(b);
        pos = next;
        continue;
      }
      if (type === '0' || type === '\0' || type === '7') {
        let name = cstr(h, 0, 100);
        const magic = h.toString('latin1', 257, 262);
        if (magic === 'ustar') {
          const prefix = cstr(h, 345, 155);
          if (prefix) name = `${prefix}/${name}`;
        }
        if (longName !== undefined) name = longName;
        if (pax.path !== undefined) name = pax.path;
        index.set(cleanMemberName(name), { offset: data, size: msize });
        if (index.size > MAX_MEMBERS) throw invalid(file, `has more than ${MAX_MEMBERS} members`);
      }
      longName = undefined;
      pax = {};
      pos = next;
    }
    return index;
  } finally {
    closeSync(fd);
  }
}
