import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import * as path from 'node:path';
import { digestHex } from './digest.js';
import { ImageError } from './errors.js';
import type { Descriptor } from './schemas.js';

/** Where blob `digest` lives in the layout at `layoutDir` (the digest is validated first). */
export function layoutBlobPath(layoutDir: string, digest: string): string {
  return path.join(layoutDir, 'blobs', 'sha256', digestHex(digest));
}

/** Reads whole blobs and whole layers in chunks of this size. */
const READ_CHUNK = 1 << 20;

/**
 * Opens a blob for reading and checks, before anything is read, that it is a regular file of
 * exactly the descriptor's size. O_NONBLOCK so that a FIFO planted in `blobs/` cannot hang us.
 */
export async function openBlob(
  file: string,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  what: string,
  image: string,
): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ImageError(
        'ERR_IMAGE_BLOB_MISSING',
        `blob ${desc.digest} (${what}) of image ${image} is missing`,
        {
          hint: `expected at ${file}; the image layout is incomplete, copy the image again`,
          cause,
        },
      );
    }
    throw new ImageError(
      'ERR_IMAGE_LAYOUT_INVALID',
      `cannot open blob ${desc.digest} (${what}) of image ${image}`,
      {
        hint: `check the permissions of ${file}`,
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
          hint: `check ${file}`,
        },
      );
    }
    if (st.size !== desc.size) throw sizeMismatch(desc, what, image, st.size);
    return fh;
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
    { hint: 'the image layout is corrupted or was tampered with; copy the image again' },
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
    { hint: 'the image layout is corrupted or was tampered with; copy the image again' },
  );
}

/**
 * Reads a whole small blob (manifest, index, config) and verifies size and digest before the
 * caller parses a byte of it.
 */
export async function readVerifiedBlob(
  file: string,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  what: string,
  image: string,
  maxBytes: number,
): Promise<Buffer> {
  if (desc.size > maxBytes) {
    throw new ImageError(
      'ERR_IMAGE_LIMIT',
      `blob ${desc.digest} (${what}) of image ${image} is ${desc.size} bytes, over the ${maxBytes}-byte limit for a ${what}`,
      { hint: 'this is not a normal image; check where it came from' },
    );
  }
  const fh = await openBlob(file, desc, what, image);
  try {
    // One byte more than expected, to notice a file that grew after fstat.
    const buf = Buffer.allocUnsafe(desc.size + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, null);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got !== desc.size)
      throw sizeMismatch(desc, what, image, got > desc.size ? `more than ${desc.size}` : got);
    const data = buf.subarray(0, got);
    const actual = createHash('sha256').update(data).digest('hex');
    if (actual !== digestHex(desc.digest)) throw digestMismatch(desc, what, image, actual);
    return data;
  } finally {
    await fh.close();
  }
}

/** Hashes a whole blob file (a layer) and checks size and digest, without keeping it in memory. */
export async function verifyBlobFile(
  file: string,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  what: string,
  image: string,
): Promise<void> {
  const fh = await openBlob(file, desc, what, image);
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > desc.size) throw sizeMismatch(desc, what, image, `more than ${desc.size}`);
      hash.update(buf.subarray(0, bytesRead));
    }
    if (total !== desc.size) throw sizeMismatch(desc, what, image, total);
    const actual = hash.digest('hex');
    if (actual !== digestHex(desc.digest)) throw digestMismatch(desc, what, image, actual);
  } finally {
    await fh.close();
  }
}
