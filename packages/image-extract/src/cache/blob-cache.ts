import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { isBerthError } from '@berth-oci/errors';
import type { BlobLocation } from '../core/blob-source.js';
import { digestHex } from '../core/digest.js';
import type { Descriptor } from '../core/schemas.js';
import { verifyBlobFile } from '../core/verified-blob.js';
import { debug } from '../debug.js';
import { cacheWriteError, ImageError, q } from '../errors.js';
import { withCacheLock } from './lock.js';

/** `<cacheDir>/blobs/sha256`: verified blobs, named by digest. */
export function blobCacheDir(cacheDir: string): string {
  return path.join(path.resolve(cacheDir), 'blobs', 'sha256');
}

/** `<cacheDir>/blobs/sha256/<hex>`. */
export function blobCachePath(cacheDir: string, digest: string): string {
  return path.join(blobCacheDir(cacheDir), digestHex(digest));
}

/** `<cacheDir>/locks/<name>.lock`. */
export function lockPath(cacheDir: string, name: string): string {
  return path.join(path.resolve(cacheDir), 'locks', `${name}.lock`);
}

/** Creates `dir` (and missing parents) 0700, and makes it 0700 if it is ours and open to others. */
export async function privateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await stat(dir);
    if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) await chmod(dir, 0o700);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ImageError(
      'ERR_IMAGE_CACHE',
      `cannot create the cache directory ${q(dir)}${code ? ` (${code})` : ''}`,
      {
        hint: 'check that the cache directory (BERTH_CACHEDIR) is writable',
        cause,
      },
    );
  }
}

const tmpName = (final: string) => `${final}.tmp-${randomBytes(6).toString('hex')}`;

/**
 * True when the cache holds blob `desc`, verified now (size and digest); a cached blob that
 * fails verification is deleted so that it is fetched again.
 */
async function haveVerifiedBlob(
  cacheDir: string,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  what: string,
  image: string,
  onBytes?: (bytes: number) => void,
): Promise<boolean> {
  const file = blobCachePath(cacheDir, desc.digest);
  const loc: BlobLocation = { file, offset: 0, length: undefined };
  try {
    await verifyBlobFile(loc, desc, what, image, onBytes);
    return true;
  } catch (error) {
    if (isBerthError(error) && error.code === 'ERR_IMAGE_BLOB_MISSING') return false;
    debug(
      'cached blob %s failed verification (%s): removed',
      desc.digest,
      (error as Error).message,
    );
    await rm(file, { force: true });
    return false;
  }
}

/**
 * Stores a verified small blob (manifest, index, config) in the cache: under the blob's lock,
 * a temporary file renamed into place. Temporary files of the same blob left by a writer that
 * was killed are removed (under the lock nobody else is writing one).
 */
export async function storeBlob(cacheDir: string, digest: string, data: Buffer): Promise<void> {
  const dir = blobCacheDir(cacheDir);
  await privateDir(dir);
  const final = blobCachePath(cacheDir, digest);
  await withCacheLock(lockPath(cacheDir, `blob-${digestHex(digest)}`), async () => {
    await removeTemporaries(dir, digestHex(digest));
    const tmp = tmpName(final);
    try {
      await writeFile(tmp, data, { mode: 0o600, flush: true });
      await rename(tmp, final);
    } catch (error) {
      await rm(tmp, { force: true });
      throw cacheWriteError(error, final, `blob ${digest}`, { written: 0, size: data.length });
    }
  });
}

/** Removes the temporary files of blob `hex` in `dir`; the caller holds the blob's lock. */
async function removeTemporaries(dir: string, hex: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith(`${hex}.tmp-`)) await rm(path.join(dir, name), { force: true });
  }
}

/**
 * Puts blob `desc` into the cache unless a verified copy is there: under the blob's lock (so
 * concurrent pulls download it once), `download(tmp)` writes and verifies a temporary file,
 * which is then renamed into place. Temporary files left by a crashed download are removed.
 * Returns whether a download happened.
 */
export async function ensureBlob(
  cacheDir: string,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  what: string,
  image: string,
  download: (tmp: string) => Promise<void>,
): Promise<boolean> {
  const dir = blobCacheDir(cacheDir);
  await privateDir(dir);
  const hex = digestHex(desc.digest);
  return withCacheLock(lockPath(cacheDir, `blob-${hex}`), async () => {
    // before the check: a download killed just after another one finished leaves its file too
    await removeTemporaries(dir, hex);
    if (await haveVerifiedBlob(cacheDir, desc, what, image)) return false;
    const final = path.join(dir, hex);
    const tmp = tmpName(final);
    try {
      await download(tmp);
      await rename(tmp, final);
    } catch (error) {
      await unlink(tmp).catch(() => {});
      throw error;
    }
    return true;
  });
}
