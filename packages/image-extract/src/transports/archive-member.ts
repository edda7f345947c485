import { MAX_DOCUMENT_BYTES } from '../core/documents.js';
import type { ArchiveMember } from '../core/tar-index.js';
import { openBlob } from '../core/verified-blob.js';
import { ImageError } from '../errors.js';

/** Reads a small member (a document) of an uncompressed image archive, at most 8 MiB. */
export async function readMember(
  file: string,
  m: ArchiveMember,
  name: string,
  image: string,
): Promise<Buffer> {
  if (m.size > MAX_DOCUMENT_BYTES) {
    throw new ImageError(
      'ERR_IMAGE_LIMIT',
      `${name} in ${image} is ${m.size} bytes, over the ${MAX_DOCUMENT_BYTES}-byte limit`,
      {
        hint: 'this is not a normal image archive',
      },
    );
  }
  const { fh } = await openBlob(
    { file, offset: m.offset, length: m.size },
    { digest: name, size: m.size },
    name,
    image,
  );
  try {
    const buf = Buffer.alloc(m.size);
    const { bytesRead } = await fh.read(buf, 0, m.size, m.offset);
    if (bytesRead !== m.size) {
      throw new ImageError('ERR_IMAGE_ARCHIVE_INVALID', `${name} in ${image} is cut short`, {
        hint: 'the archive is truncated',
      });
    }
    return buf;
  } finally {
    await fh.close();
  }
}
