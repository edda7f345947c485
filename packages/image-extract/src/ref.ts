import { statSync } from 'node:fs';
import * as path from 'node:path';
import * as v from 'valibot';
import { ImageError, q } from './errors.js';

/** A parsed image reference. Only the `oci:` transport (an OCI image layout directory) for now. */
export const ImageRefSchema = v.object({
  transport: v.literal('oci'),
  /** Absolute path of the image layout directory. */
  path: v.pipe(
    v.string(),
    v.check((p) => path.isAbsolute(p), 'must be an absolute path'),
  ),
  /** The `org.opencontainers.image.ref.name` to select from `index.json`. */
  tag: v.optional(v.pipe(v.string(), v.minLength(1))),
});
export type ImageRef = v.InferOutput<typeof ImageRefSchema>;

const UNSUPPORTED: ReadonlyArray<readonly [prefix: string, transport: string]> = [
  ['docker://', 'docker'],
  ['docker-archive:', 'docker-archive'],
  ['oci-archive:', 'oci-archive'],
];

const ACCEPTED_HINT =
  'use oci:DIR[:TAG] (an OCI image layout directory, e.g. oci:./alpine:3.20) or the path of such a directory';

function isLayoutDir(dir: string): boolean {
  try {
    return statSync(path.join(dir, 'oci-layout')).isFile();
  } catch {
    return false;
  }
}

/** Splits `DIR[:TAG]`: the tag follows the last ':' that comes after the last '/'. */
function splitTag(rest: string): { dir: string; tag: string | undefined } {
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/'))
    return { dir: rest.slice(0, colon), tag: rest.slice(colon + 1) };
  return { dir: rest, tag: undefined };
}

function ociRef(ref: string, dir: string, tag: string | undefined): ImageRef {
  if (dir === '') {
    throw new ImageError(
      'ERR_IMAGE_REF_INVALID',
      `invalid image reference ${q(ref)}: empty directory`,
      {
        hint: ACCEPTED_HINT,
      },
    );
  }
  if (tag !== undefined && tag === '') {
    throw new ImageError('ERR_IMAGE_REF_INVALID', `invalid image reference ${q(ref)}: empty tag`, {
      hint: 'write oci:DIR:TAG with a tag, or oci:DIR without the trailing ":"',
    });
  }
  const out: ImageRef = { transport: 'oci', path: path.resolve(dir) };
  if (tag !== undefined) out.tag = tag;
  return out;
}

/**
 * Parses an image reference: `oci:DIR[:TAG]`, or a bare path to a directory holding an
 * `oci-layout` file (optionally `PATH:TAG`). `docker://`, `docker-archive:` and `oci-archive:`
 * throw ERR_IMAGE_TRANSPORT_UNSUPPORTED; anything else ERR_IMAGE_REF_INVALID.
 */
export function parseImageRef(ref: string): ImageRef {
  if (typeof ref !== 'string' || ref === '') {
    throw new ImageError('ERR_IMAGE_REF_INVALID', 'invalid image reference: empty', {
      hint: ACCEPTED_HINT,
    });
  }
  if (ref.includes('\0')) {
    throw new ImageError(
      'ERR_IMAGE_REF_INVALID',
      `invalid image reference ${q(ref)}: contains a NUL byte`,
      {
        hint: ACCEPTED_HINT,
      },
    );
  }
  for (const [prefix, transport] of UNSUPPORTED) {
    if (ref.startsWith(prefix)) {
      throw new ImageError(
        'ERR_IMAGE_TRANSPORT_UNSUPPORTED',
        `transport "${transport}" is not supported yet (image reference ${q(ref)})`,
        {
          hint: 'export the image to an OCI layout (e.g. skopeo copy ... oci:DIR:TAG) and use oci:DIR:TAG',
        },
      );
    }
  }
  if (ref.startsWith('oci:')) {
    const { dir, tag } = splitTag(ref.slice(4));
    return ociRef(ref, dir, tag);
  }
  // A bare path: the whole string first, then PATH:TAG.
  if (isLayoutDir(path.resolve(ref))) return ociRef(ref, ref, undefined);
  const { dir, tag } = splitTag(ref);
  if (tag !== undefined && dir !== '' && isLayoutDir(path.resolve(dir)))
    return ociRef(ref, dir, tag);
  throw new ImageError('ERR_IMAGE_REF_INVALID', `invalid image reference ${q(ref)}`, {
    hint: `${ACCEPTED_HINT}; docker://, docker-archive: and oci-archive: are not supported yet`,
  });
}

/** Formats a reference back to its string form (`oci:/abs/dir:tag`). */
export function formatImageRef(ref: ImageRef): string {
  return `oci:${ref.path}${ref.tag === undefined ? '' : `:${ref.tag}`}`;
}
