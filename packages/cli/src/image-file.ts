/**
 * An image as one file: `pull --name FILE` writes an OCI archive (a tar of an OCI image
 * layout: `oci-layout`, `index.json`, `blobs/sha256/...`), which `berth exec FILE` runs as it
 * is (an image path is recognised by what the file holds).
 */
import { constants } from 'node:fs';
import { type FileHandle, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from './errors.js';

const BLOCK = 512;
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Writes `value` as a NUL-terminated octal field of `width` bytes (base-256 when too big). */
function numberField(header: Buffer, offset: number, width: number, value: number): void {
  const octal = value.toString(8);
  if (octal.length < width) {
    header.write(octal.padStart(width - 1, '0'), offset, 'ascii');
    return;
  }
  // GNU base-256: a leading 0x80, the number big-endian in the rest
  let n = BigInt(value);
  for (let i = width - 1; i > 0; i--) {
    header[offset + i] = Number(n & 0xffn);
    n >>= 8n;
  }
  header[offset] = 0x80;
}

/** A ustar header of a regular file (`name` ≤ 100 bytes), root-owned, mode 0644. */
export function tarHeader(name: string, size: number, mtime = 0): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar member name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'utf8');
  numberField(h, 100, 8, 0o644);
  numberField(h, 108, 8, 0);
  numberField(h, 116, 8, 0);
  numberField(h, 124, 12, size);
  numberField(h, 136, 12, mtime);
  h.write('        ', 148, 'ascii'); // the checksum counts itself as spaces
  h.write('0', 156, 'ascii');
  h.write('ustar\u000000', 257, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'ascii');
  return h;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

async function appendFile(out: FileHandle, name: string, file: string, size: number) {
  await out.write(tarHeader(name, size));
  const input = await open(file, constants.O_RDONLY);
  try {
    const buf = Buffer.alloc(1 << 20);
    let left = size;
    while (left > 0) {
      const { bytesRead } = await input.read(buf, 0, Math.min(buf.length, left), null);
      if (bytesRead === 0) throw new Error(`${file} is shorter than ${size} bytes`);
      await out.write(buf.subarray(0, bytesRead));
      left -= bytesRead;
    }
  } finally {
    await input.close();
  }
  await out.write(padding(size));
}

async function appendData(out: FileHandle, name: string, data: Buffer) {
  await out.write(tarHeader(name, data.length));
  await out.write(data);
  await out.write(padding(data.length));
}

/** What goes into an archive: the manifest and the blobs it names, all in `blobsDir`. */
export interface ArchiveInput {
  /** A directory holding `sha256/<hex>` blob files (berth's blob cache). */
  blobsDir: string;
  manifestDigest: string;
  /** The `org.opencontainers.image.ref.name` of the one image in the archive. */
  tag?: string;
}

const hexOf = (digest: string) => {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m)
    throw new CliError('ERR_CLI_PULL_FILE', `blob digest ${JSON.stringify(digest)} is not sha256`);
  return m[1] as string;
};

/**
 * Writes an OCI archive of one image to `file` (through a temporary file beside it, renamed
 * at the end, so that FILE is whole or absent). Returns the number of bytes written.
 */
export async function writeOciArchive(file: string, input: ArchiveInput): Promise<number> {
  const blob = (digest: string) => path.join(input.blobsDir, 'sha256', hexOf(digest));
  const manifestBytes = await readFile(blob(input.manifestDigest));
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as {
    mediaType?: string;
    config?: { digest?: string };
    layers?: { digest?: string }[];
  };
  const digests = [input.manifestDigest, manifest.config?.digest ?? ''];
  for (const l of manifest.layers ?? []) digests.push(l.digest ?? '');
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        mediaType: manifest.mediaType ?? OCI_MANIFEST,
        digest: input.manifestDigest,
        size: manifestBytes.length,
        ...(input.tag !== undefined && {
          annotations: { 'org.opencontainers.image.ref.name': input.tag },
        }),
      },
    ],
  };
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.berth-${process.pid}`);
  const out = await open(tmp, 'wx', 0o644);
  try {
    await appendData(out, 'oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    await appendData(out, 'index.json', Buffer.from(JSON.stringify(index)));
    const seen = new Set<string>();
    for (const d of digests) {
      if (seen.has(d)) continue;
      seen.add(d);
      const src = blob(d);
      const { size } = await stat(src);
      await appendFile(out, `blobs/sha256/${hexOf(d)}`, src, size);
    }
    await out.write(Buffer.alloc(BLOCK * 2));
    const { size } = await out.stat();
    await out.close();
    await rename(tmp, file);
    return size;
  } catch (e) {
    await out.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}
