import * as path from 'node:path';
import * as v from 'valibot';
import { digestHex } from './digest.js';

/**
 * Where the blobs of a resolved image are read from. Plain data (JSON-serialisable), so that a
 * resolved image can be handed to another process.
 * - `dir`: `<dir>/blobs/sha256/<hex>` files: an OCI image layout, or berth's blob cache.
 * - `archive`: members of an uncompressed tar file (oci-archive, docker-archive), by digest.
 */
export const BlobSourceSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('dir'), dir: v.string() }),
  v.strictObject({
    kind: v.literal('archive'),
    file: v.string(),
    members: v.record(
      v.string(),
      v.strictObject({
        offset: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
        size: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
      }),
    ),
  }),
]);
export type BlobSource = v.InferOutput<typeof BlobSourceSchema>;

/** A blob's bytes: `length` bytes at `offset` of `file` (`length` undefined: the whole file). */
export interface BlobLocation {
  file: string;
  offset: number;
  length: number | undefined;
}

/** Where blob `digest` is in `source`; undefined when an archive has no such member. */
export function locateBlob(source: BlobSource, digest: string): BlobLocation | undefined {
  const hex = digestHex(digest);
  if (source.kind === 'dir') {
    return { file: path.join(source.dir, 'blobs', 'sha256', hex), offset: 0, length: undefined };
  }
  const m = Object.hasOwn(source.members, digest) ? source.members[digest] : undefined;
  return m === undefined ? undefined : { file: source.file, offset: m.offset, length: m.size };
}

/** How to name a blob's location in messages. */
export function describeLocation(loc: BlobLocation): string {
  return loc.length === undefined ? loc.file : `${loc.file} (at byte ${loc.offset})`;
}
