import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { ImageError } from '../errors.js';
import { type BlobLocation, describeLocation } from './blob-source.js';
import { digestHex } from './digest.js';
import type { Descriptor } from './schemas.js';

/** Reads whole blobs and whole layers in chunks of this size. */
const READ_CHUNK = 1 << 20;

/** An open blob: read `size` bytes from `start` of `fh`. */
interface OpenBlob {
  fh: FileHandle;
  start: number;
}

export function blobMissing(
  desc: Pick<Descriptor, 'digest' | 'urls'>,
  what: string,
  image: string,
  where: string,
  cause?: unknown,
): ImageError {
  const urls = desc.urls?.length
    ? `; it is a non-distributable layer to be fetched from ${desc.urls.slice(0, 3).join(', ')}`
    : '';
  return new ImageError(
    'ERR_IMAGE_BLOB_MISSING',
    `blob ${desc.digest} (${what}) of image ${image} is missing${urls}`,
    {
      hint: urls
        ? 'copy the image with its non-distributable layers included (skopeo copy --preserve-digests, or pull it from a registry with berth pull docker://...)'
        : `expected at ${where}; the image is incomplete, copy it again`,
      cause,
    },
  );
}

/**
 * Opens a blob for reading and checks, before anything is read, that it is a regular file of
 * exactly the descriptor's size (or an archive member of that size). O_NONBLOCK so that a FIFO
 * planted in `blobs/` cannot hang us.
 */
export async function openBlob(
  loc: BlobLocation,
  desc: Pick<Descriptor, 'digest' | 'size' | 'urls'>,
  what: string,
  image: string,
): Promise<OpenBlob> {
  if (loc.length !== undefined && loc.length !== desc.size)
    throw sizeMismatch(desc, what, image, loc.length);
  let fh: FileHandle;
  try {
    fh = await open(loc.file, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw blobMissing(desc, what, image, loc.file, cause);
    }
    throw new ImageError(
      'ERR_IMAGE_LAYOUT_INVALID',
      `cannot open blob ${desc.digest} (${what}) of image ${image}`,
      {
        hint: `check the permissions of ${loc.file}`,
        cause,
      },
    );
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      throw new ImageError(
        'ERR_IMAGE_LAYOUT_INVALID',
        `blob ${desc.digest} (${what}) of image ${image} is not a regular file`,
        {
          hint: `check ${loc.file}`,
        },
      );
    }
    if (loc.length === undefined) {
      if (st.size !== desc.size) throw sizeMismatch(desc, what, image, st.size);
    } else if (st.size < loc.offset + loc.length) {
      throw sizeMismatch(desc, what, image, `cut short at ${describeLocation(loc)}`);
    }
    return { fh, start: loc.offset };
  } catch (error) {
    await fh.close();
    throw error;
  }
}

export function sizeMismatch(
  desc: Pick<Descriptor, 'digest' | 'size'>,
  what: string,
  image: string,
  actual: number | string,
): ImageError {
  return new ImageError(
    'ERR_IMAGE_SIZE_MISMATCH',
    `blob ${desc.digest} (${what}) of image ${image} is ${actual} bytes but its descriptor says ${desc.size}`,
    { hint: 'the image is corrupted or was tampered with; copy it again' },
  );
}

export function digestMismatch(
  desc: Pick<Descriptor, 'digest'>,
  what: string,
  image: string,
  actual: string,
): ImageError {
  return new ImageError(
    'ERR_IMAGE_DIGEST_MISMATCH',
    `blob ${desc.digest} (${what}) of image ${image} does not match its digest (content is sha256:${actual})`,
    { hint: 'the image is corrupted or was tampered with; copy it again' },
  );
}

export function tooLarge(
  desc: Pick<Descriptor, 'digest' | 'size'>,
  what: string,
  image: string,
  maxBytes: number,
): ImageError {
  return new ImageError(
    'ERR_IMAGE_LIMIT',
    `blob ${desc.digest} (${what}) of image ${image} is ${desc.size} bytes, over the ${maxBytes}-byte limit for a ${what}`,
    { hint: 'this is not a normal image; check where it came from' },
  );
}

/** Checks a whole small blob in memory against its descriptor's size and digest. */
export function verifyBuffer(
  data: Buffer,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  what: string,
  image: string,
): void {
  if (data.length !== desc.size) throw sizeMismatch(desc, what, image, data.length);
  const actual = createHash('sha256').update(data).digest('hex');
  if (actual !== digestHex(desc.digest)) throw digestMismatch(desc, what, image, actual);
}

/**
 * Reads a whole small blob (manifest, index, config) and verifies size and digest before the
 * caller parses a byte of it.
 */
export async function readVerifiedBlob(
  loc: BlobLocation,
  desc: Pick<Descriptor, 'digest' | 'size' | 'urls'>,
  what: string,
  image: string,
  maxBytes: number,
): Promise<Buffer> {
  if (desc.size > maxBytes) throw tooLarge(desc, what, image, maxBytes);
  const { fh, start } = await openBlob(loc, desc, what, image);
  try {
    // One byte more than expected for whole files, to notice a file that grew after fstat.
    const want = loc.length === undefined ? desc.size + 1 : desc.size;
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got !== desc.size)
      throw sizeMismatch(desc, what, image, got > desc.size ? `more than ${desc.size}` : got);
    const data = buf.subarray(0, got);
    verifyBuffer(data, desc, what, image);
    return data;
  } finally {
    await fh.close();
  }
}

/**
 * Hashes a whole blob (a layer) and checks size and digest, without keeping it in memory.
 * `onBytes` hears how many bytes were hashed so far.
 */
export async function verifyBlobFile(
  loc: BlobLocation,
  desc: Pick<Descriptor, 'digest' | 'size' | 'urls'>,
  what: string,
  image: string,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  const { fh, start } = await openBlob(loc, desc, what, image);
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    const limit = loc.length === undefined ? Number.POSITIVE_INFINITY : desc.size;
    let total = 0;
    for (;;) {
      const n = Math.min(buf.length, limit - total);
      if (n <= 0) break;
      const { bytesRead } = await fh.read(buf, 0, n, start + total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > desc.size) throw sizeMismatch(desc, what, image, `more than ${desc.size}`);
      hash.update(buf.subarray(0, bytesRead));
      onBytes?.(total);
    }
    if (total !== desc.size) throw sizeMismatch(desc, what, image, total);
    const actual = hash.digest('hex');
    if (actual !== digestHex(desc.digest)) throw digestMismatch(desc, what, image, actual);
  } finally {
    await fh.close();
  }
}

/** Hashes `size` bytes at `offset` of an open file (sha256 hex). */
export async function hashRange(fh: FileHandle, offset: number, size: number): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  let done = 0;
  while (done < size) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - done), offset + done);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    done += bytesRead;
  }
  return hash.digest('hex');
}
