/**
 * The Singularity Image Format (SIF), read as untrusted input: a 128-byte global header, a
 * table of fixed-size descriptors, then the data objects the descriptors point at (the system
 * partition is a squashfs file system). The layout is documented in docs/sif.md; every count,
 * offset and size is checked against the file before it is used.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { ImageError, q } from '../errors.js';

/** Bytes of the global header. */
export const SIF_HEADER_SIZE = 128;
/** Bytes of one descriptor. */
export const SIF_DESCRIPTOR_SIZE = 585;
/** Where the magic sits in the header (after the 32-byte launch script). */
const MAGIC_OFFSET = 32;
const MAGIC = Buffer.from('SIF_MAGIC\0', 'latin1');
/** More descriptors than any real image has (the reference writer makes 48 by default). */
const MAX_DESCRIPTORS = 4096;

/** The kinds of data object, by their code in a descriptor. */
const DATA_TYPES: Record<number, SifDataType> = {
  16385: 'deffile',
  16386: 'envvar',
  16387: 'labels',
  16388: 'partition',
  16389: 'signature',
  16390: 'generic-json',
  16391: 'generic',
  16392: 'crypto-message',
  16393: 'sbom',
  16394: 'oci-root-index',
  16395: 'oci-blob',
};
export type SifDataType =
  | 'deffile'
  | 'envvar'
  | 'labels'
  | 'partition'
  | 'signature'
  | 'generic-json'
  | 'generic'
  | 'crypto-message'
  | 'sbom'
  | 'oci-root-index'
  | 'oci-blob'
  | 'unknown';

const FS_TYPES: Record<number, SifFsType> = {
  1: 'squashfs',
  2: 'ext3',
  3: 'archive',
  4: 'raw',
  5: 'encrypted-squashfs',
};
export type SifFsType = 'squashfs' | 'ext3' | 'archive' | 'raw' | 'encrypted-squashfs' | 'unknown';

const PART_TYPES: Record<number, SifPartType> = {
  1: 'system',
  2: 'primary-system',
  3: 'data',
  4: 'overlay',
};
export type SifPartType = 'system' | 'primary-system' | 'data' | 'overlay' | 'unknown';

/** SIF's architecture codes, as Go (and OCI) names them. */
const ARCHES: Record<string, string> = {
  '01': '386',
  '02': 'amd64',
  '03': 'arm',
  '04': 'arm64',
  '05': 'ppc64',
  '06': 'ppc64le',
  '07': 'mips',
  '08': 'mipsle',
  '09': 'mips64',
  '10': 'mips64le',
  '11': 's390x',
  '12': 'riscv64',
};

/** One used descriptor: a data object of the image. */
export interface SifObject {
  type: SifDataType;
  /** The raw type code (`0x4004` for a partition). */
  typeCode: number;
  id: number;
  /** The group (0 when in none), without the group flag bit. */
  group: number;
  /** The object or group this one refers to (a signature's signed object), 0 for none. */
  link: number;
  /** Whether `link` names a group rather than an object. */
  linksGroup: boolean;
  /** Where the object's bytes start in the file, and how many there are. */
  offset: number;
  size: number;
  name: string;
  /** Partitions: the file system, the partition's role and its architecture. */
  fsType?: SifFsType;
  partType?: SifPartType;
  arch?: string;
}

/** A SIF file's header and objects. */
export interface SifImage {
  path: string;
  /** The specification version (`01`). */
  version: string;
  /** The primary architecture (Go names: `amd64`), or `unknown`. */
  arch: string;
  /** The image's UUID. */
  id: string;
  createdAt: number;
  modifiedAt: number;
  objects: SifObject[];
}

const invalid = (file: string, what: string) =>
  new ImageError('ERR_IMAGE_ARCHIVE_INVALID', `invalid SIF image ${q(file)}: ${what}`, {
    hint: 'the file is damaged or not a SIF image; build or pull it again',
  });

/** Reads `length` bytes at `position`; fewer only at the end of the file. */
async function readAt(h: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await h.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

/** Whether the first bytes of a file (at least 42 of them) are a SIF header's. */
export function hasSifMagic(head: Buffer): boolean {
  return (
    head.length >= MAGIC_OFFSET + MAGIC.length &&
    head.subarray(MAGIC_OFFSET, MAGIC_OFFSET + MAGIC.length).equals(MAGIC)
  );
}

/** Whether the file at `file` starts as a SIF image does (false when it cannot be read). */
export async function isSifFile(file: string): Promise<boolean> {
  const h = await open(file, 'r').catch(() => undefined);
  if (!h) return false;
  try {
    return hasSifMagic(await readAt(h, 0, MAGIC_OFFSET + MAGIC.length));
  } finally {
    await h.close();
  }
}

/** A NUL-terminated string of a fixed-size field. */
function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

/** An int64 field that must be a safe, non-negative number. */
function size64(b: Buffer, at: number, file: string, what: string): number {
  const n = b.readBigInt64LE(at);
  if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(file, `${what} is ${n}`);
  return Number(n);
}

function uuidOf(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const GROUP_FLAG = 0xf0000000;

/**
 * Reads and checks the header and descriptors of the SIF image at `file`: the magic, the
 * version, a descriptor table and every used object inside the file. Errors are
 * `ERR_IMAGE_ARCHIVE_INVALID` naming the file and what is wrong.
 */
export async function readSif(file: string): Promise<SifImage> {
  let h: FileHandle;
  try {
    h = await open(file, 'r');
  } catch (cause) {
    throw new ImageError(
      'ERR_IMAGE_NOT_FOUND',
      `cannot open SIF image ${q(file)}: ${(cause as NodeJS.ErrnoException).code ?? cause}`,
      { hint: 'check the path and its permissions', cause },
    );
  }
  try {
    const fileSize = (await h.stat()).size;
    const header = await readAt(h, 0, SIF_HEADER_SIZE);
    if (!hasSifMagic(header)) throw invalid(file, 'no SIF magic');
    if (header.length < SIF_HEADER_SIZE) throw invalid(file, 'the header is cut short');
    const version = cString(header.subarray(42, 45));
    if (version !== '01') throw invalid(file, `unsupported SIF version ${q(version)}`);
    const arch = ARCHES[cString(header.subarray(45, 48))] ?? 'unknown';
    const id = uuidOf(header.subarray(48, 64));
    const createdAt = Number(header.readBigInt64LE(64));
    const modifiedAt = Number(header.readBigInt64LE(72));
    const total = size64(header, 88, file, 'the descriptor count');
    const descOffset = size64(header, 96, file, 'the descriptor offset');
    const descSize = size64(header, 104, file, 'the descriptor table size');
    if (total === 0 || total > MAX_DESCRIPTORS)
      throw invalid(file, `${total} descriptors (1..${MAX_DESCRIPTORS} expected)`);
    if (descOffset < SIF_HEADER_SIZE || descSize < total * SIF_DESCRIPTOR_SIZE)
      throw invalid(file, 'the descriptor table overlaps the header or is too small');
    if (descOffset + total * SIF_DESCRIPTOR_SIZE > fileSize)
      throw invalid(file, 'the descriptor table runs past the end of the file (truncated?)');
    const table = await readAt(h, descOffset, total * SIF_DESCRIPTOR_SIZE);
    const tableEnd = descOffset + total * SIF_DESCRIPTOR_SIZE;
    const objects: SifObject[] = [];
    const ids = new Set<number>();
    for (let i = 0; i < total; i++) {
      const d = table.subarray(i * SIF_DESCRIPTOR_SIZE, (i + 1) * SIF_DESCRIPTOR_SIZE);
      if (d[4] === 0) continue; // unused slot
      const typeCode = d.readInt32LE(0);
      const objId = d.readUInt32LE(5);
      const groupRaw = d.readUInt32LE(9);
      const linkRaw = d.readUInt32LE(13);
      const what = `object ${i + 1}`;
      const offset = size64(d, 17, file, `the offset of ${what}`);
      const size = size64(d, 25, file, `the size of ${what}`);
      if (offset + size > fileSize)
        throw invalid(file, `${what} runs past the end of the file (truncated?)`);
      if (size > 0 && offset < tableEnd)
        throw invalid(file, `${what} overlaps the header or the descriptor table`);
      if (objId === 0 || ids.has(objId)) throw invalid(file, `${what} has a bad or repeated id`);
      ids.add(objId);
      const type = DATA_TYPES[typeCode] ?? 'unknown';
      const obj: SifObject = {
        type,
        typeCode,
        id: objId,
        group: groupRaw === 0 ? 0 : (groupRaw & ~GROUP_FLAG) >>> 0,
        link: (linkRaw & ~GROUP_FLAG) >>> 0,
        linksGroup: (linkRaw & GROUP_FLAG) !== 0,
        offset,
        size,
        name: cString(d.subarray(73, 201)),
      };
      if (type === 'partition') {
        const extra = d.subarray(201);
        obj.fsType = FS_TYPES[extra.readInt32LE(0)] ?? 'unknown';
        obj.partType = PART_TYPES[extra.readInt32LE(4)] ?? 'unknown';
        obj.arch = ARCHES[cString(extra.subarray(8, 11))] ?? 'unknown';
      }
      objects.push(obj);
    }
    return { path: file, version, arch, id, createdAt, modifiedAt, objects };
  } finally {
    await h.close();
  }
}

/**
 * The partition a container runs from: the primary system partition (else the only system
 * one), which must be squashfs. Refused with a clear error: no system partition, an encrypted
 * one (berth cannot decrypt), another file system (ext3 images are not supported).
 */
export function systemPartition(sif: SifImage): SifObject {
  const parts = sif.objects.filter((o) => o.type === 'partition');
  const system =
    parts.find((o) => o.partType === 'primary-system') ??
    (parts.filter((o) => o.partType === 'system').length === 1
      ? parts.find((o) => o.partType === 'system')
      : undefined);
  if (!system) {
    const oci = sif.objects.some((o) => o.type === 'oci-root-index');
    throw new ImageError(
      'ERR_IMAGE_LAYER_UNSUPPORTED',
      oci
        ? `SIF image ${q(sif.path)} is an OCI-SIF (an OCI image inside SIF): berth does not read those yet`
        : `SIF image ${q(sif.path)} has no system partition to run`,
      { hint: 'use a native SIF built by singularity build, or an OCI image (oci:, docker://)' },
    );
  }
  if (system.fsType === 'encrypted-squashfs') {
    throw new ImageError(
      'ERR_IMAGE_LAYER_UNSUPPORTED',
      `SIF image ${q(sif.path)} is encrypted: berth cannot decrypt SIF partitions`,
      { hint: 'run it with SingularityCE, or rebuild it without --encrypt' },
    );
  }
  if (system.fsType !== 'squashfs' || system.size === 0) {
    throw new ImageError(
      'ERR_IMAGE_LAYER_UNSUPPORTED',
      `SIF image ${q(sif.path)}: its system partition is ${system.fsType ?? 'unknown'}, not squashfs`,
      { hint: 'berth runs squashfs system partitions only' },
    );
  }
  return system;
}

/** Whether the image carries signatures (berth does not verify them: it says so). */
export const isSigned = (sif: SifImage): boolean => sif.objects.some((o) => o.type === 'signature');
