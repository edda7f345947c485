import * as v from 'valibot';
import { ImageError, q } from '../errors.js';
import type { Descriptor } from './schemas.js';

/** The annotation of an index entry that holds its tag. */
export const REF_NAME = 'org.opencontainers.image.ref.name';
/** Largest index, manifest or config this reader accepts. */
export const MAX_DOCUMENT_BYTES = 8 << 20;

type DocCode =
  | 'ERR_IMAGE_MANIFEST_INVALID'
  | 'ERR_IMAGE_CONFIG_INVALID'
  | 'ERR_IMAGE_LAYOUT_INVALID'
  | 'ERR_IMAGE_ARCHIVE_INVALID';
type DocKind = 'image index' | 'image manifest' | 'image config';
/** Reads a document blob, verified against its descriptor's size and digest. */
export type ReadDoc = (desc: Descriptor, what: DocKind) => Promise<Buffer>;

/** Parses a document as JSON; a syntax error is `code`, naming `where`. */
export function parseJson(data: Buffer, what: string, where: string, code: DocCode): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (cause) {
    throw new ImageError(code, `${where} (${what}) is not valid JSON`, {
      hint: 'the image is malformed; rebuild or copy it again',
      cause,
    });
  }
}

/** Checks a parsed document against its schema; a mismatch is `code` with valibot's summary. */
export function parseDoc<S extends v.GenericSchema>(
  schema: S,
  doc: unknown,
  what: string,
  where: string,
  code: DocCode,
): v.InferOutput<S> {
  const result = v.safeParse(schema, doc);
  if (result.success) return result.output;
  throw new ImageError(code, `${where} is not a valid ${what}: ${v.summarize(result.issues)}`, {
    hint: 'the image is malformed; rebuild or copy it again',
  });
}

/** A list of tags for a message: the first 20, quoted. */
export function listTags(tags: readonly string[]): string {
  if (tags.length === 0) return 'none';
  const shown = tags.slice(0, 20).map((t) => q(t, 80));
  return `${shown.join(', ')}${tags.length > 20 ? `, and ${tags.length - 20} more` : ''}`;
}

/** True when `doc` is an object with its own `field`. */
export function hasField(doc: unknown, field: string): boolean {
  return typeof doc === 'object' && doc !== null && Object.hasOwn(doc, field);
}
