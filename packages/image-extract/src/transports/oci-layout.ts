/** The `oci:` (a layout directory) and `oci-archive:` (a tar of one, read in place) transports. */
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { type BlobSource, locateBlob } from '../core/blob-source.js';
import {
  listTags,
  MAX_DOCUMENT_BYTES,
  parseDoc,
  parseJson,
  REF_NAME,
  type ReadDoc,
} from '../core/documents.js';
import { followDescriptor, type Resolved, selectPlatform } from '../core/manifest-walk.js';
import { INDEX_MEDIA_TYPES } from '../core/media-types.js';
import type { PlatformChoice } from '../core/platform.js';
import { type Descriptor, ImageIndexSchema, ImageLayoutSchema } from '../core/schemas.js';
import { type ArchiveMember, indexArchive } from '../core/tar-index.js';
import { blobMissing, readVerifiedBlob } from '../core/verified-blob.js';
import { ImageError, q } from '../errors.js';
import { readMember } from './archive-member.js';

function tagsOf(manifests: readonly Descriptor[]): string[] {
  const tags: string[] = [];
  for (const d of manifests) {
    const t = d.annotations?.[REF_NAME];
    if (t !== undefined && !tags.includes(t)) tags.push(t);
  }
  return tags;
}

/**
 * Resolves an `oci:` or `oci-archive:` reference: the `index.json` entry for the tag (or the
 * only one), followed down to a verified manifest and config. Blobs are read in place.
 */
export async function resolveLayout(
  ref: { transport: 'oci' | 'oci-archive'; path: string; tag?: string | undefined },
  want: PlatformChoice,
  image: string,
): Promise<{ resolved: Resolved; source: BlobSource }> {
  const layout =
    ref.transport === 'oci' ? await dirLayout(ref.path, image) : archiveLayout(ref.path, image);
  const { source } = layout;
  const start = await selectFromIndex(layout, ref.tag, want, image);
  const readDoc: ReadDoc = (desc, what) => {
    const loc = locateBlob(source, desc.digest);
    if (!loc)
      throw blobMissing(
        desc,
        what,
        image,
        `blobs/sha256/${desc.digest.slice(7)} in ${layout.name}`,
      );
    return readVerifiedBlob(loc, desc, what, image, MAX_DOCUMENT_BYTES);
  };
  return { resolved: await followDescriptor(start, readDoc, image, want, 'index.json'), source };
}

interface LayoutAccess {
  /** For messages. */
  name: string;
  read(member: 'oci-layout' | 'index.json'): Promise<Buffer>;
  source: BlobSource;
}

async function dirLayout(dir: string, image: string): Promise<LayoutAccess> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(dir);
  } catch (cause) {
    throw new ImageError(
      'ERR_IMAGE_NOT_FOUND',
      `image ${image} not found: ${q(dir)} does not exist`,
      {
        hint: 'check the path of the OCI image layout directory',
        cause,
      },
    );
  }
  if (!st.isDirectory()) {
    throw new ImageError(
      'ERR_IMAGE_NOT_FOUND',
      `image ${image} not found: ${q(dir)} is not a directory`,
      {
        hint: 'oci: references name an OCI image layout directory (use oci-archive: for a tar)',
      },
    );
  }
  return {
    name: q(dir),
    read: (member) => readLayoutFile(path.join(dir, member), image, member),
    source: { kind: 'dir', dir },
  };
}

const BLOB_MEMBER = /^blobs\/sha256\/([a-f0-9]{64})$/;

function archiveLayout(file: string, image: string): LayoutAccess {
  const index = indexArchive(file);
  const members: Record<string, ArchiveMember> = {};
  for (const [name, m] of index) {
    const match = BLOB_MEMBER.exec(name);
    if (match) members[`sha256:${match[1]}`] = m;
  }
  return {
    name: q(file),
    read: async (member) => {
      const m = index.get(member);
      if (!m) {
        throw new ImageError(
          'ERR_IMAGE_LAYOUT_INVALID',
          `image ${image} is not an OCI image archive: it has no ${member}`,
          {
            hint: 'an oci-archive is a tar of an OCI image layout (skopeo copy ... oci-archive:FILE:TAG)',
          },
        );
      }
      return readMember(file, m, member, image);
    },
    source: { kind: 'archive', file, members },
  };
}

async function selectFromIndex(
  layout: LayoutAccess,
  tag: string | undefined,
  want: PlatformChoice,
  image: string,
): Promise<Descriptor> {
  const layoutDoc = parseJson(
    await layout.read('oci-layout'),
    'oci-layout',
    `${layout.name}/oci-layout`,
    'ERR_IMAGE_LAYOUT_INVALID',
  );
  const lay = parseDoc(
    ImageLayoutSchema,
    layoutDoc,
    'oci-layout file',
    `${layout.name}/oci-layout`,
    'ERR_IMAGE_LAYOUT_INVALID',
  );
  if (lay.imageLayoutVersion !== '1.0.0') {
    throw new ImageError(
      'ERR_IMAGE_LAYOUT_INVALID',
      `image layout ${layout.name} has imageLayoutVersion ${q(lay.imageLayoutVersion)}, only "1.0.0" is supported`,
      { hint: 'copy the image again with a current tool (skopeo, umoci, buildah, docker buildx)' },
    );
  }
  const indexWhere = `${layout.name}/index.json`;
  const indexDoc = parseJson(
    await layout.read('index.json'),
    'image index',
    indexWhere,
    'ERR_IMAGE_LAYOUT_INVALID',
  );
  const index = parseDoc(
    ImageIndexSchema,
    indexDoc,
    'image index',
    indexWhere,
    'ERR_IMAGE_LAYOUT_INVALID',
  );
  if (index.mediaType !== undefined && !INDEX_MEDIA_TYPES.has(index.mediaType)) {
    throw new ImageError(
      'ERR_IMAGE_MEDIA_TYPE',
      `${indexWhere} has media type ${q(index.mediaType)}, not an image index`,
      {
        hint: 'the image layout is malformed',
      },
    );
  }
  if (tag !== undefined) {
    const matches = index.manifests.filter((d) => d.annotations?.[REF_NAME] === tag);
    if (matches.length === 0) {
      throw new ImageError(
        'ERR_IMAGE_NOT_FOUND',
        `image ${image} not found: no tag ${q(tag)} in ${indexWhere}; tags: ${listTags(tagsOf(index.manifests))}`,
        { hint: 'use one of the listed tags' },
      );
    }
    return matches.length === 1
      ? (matches[0] as Descriptor)
      : selectPlatform(matches, want, image, `the entries tagged ${q(tag)}`);
  }
  const tags = tagsOf(index.manifests);
  if (index.manifests.length === 0) {
    throw new ImageError(
      'ERR_IMAGE_NOT_FOUND',
      `image ${image} not found: ${indexWhere} lists no manifests`,
      {
        hint: 'the image layout is empty; copy an image into it',
      },
    );
  }
  if (index.manifests.length === 1) return index.manifests[0] as Descriptor;
  if (tags.length === 0 && index.manifests.every((d) => d.platform !== undefined)) {
    return selectPlatform(index.manifests, want, image, 'index.json');
  }
  throw new ImageError(
    'ERR_IMAGE_TAG_REQUIRED',
    `image ${image} holds ${index.manifests.length} manifests; name one with a tag: ${listTags(tags)}`,
    { hint: `add :TAG to the reference` },
  );
}

async function readLayoutFile(file: string, image: string, what: string): Promise<Buffer> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    if (st.size > MAX_DOCUMENT_BYTES) {
      throw new ImageError(
        'ERR_IMAGE_LIMIT',
        `${q(file)} is ${st.size} bytes, over the ${MAX_DOCUMENT_BYTES}-byte limit`,
        {
          hint: 'this is not a normal image layout',
        },
      );
    }
    return await readFile(file);
  } catch (cause) {
    if (cause instanceof ImageError) throw cause;
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ImageError(
      'ERR_IMAGE_LAYOUT_INVALID',
      missing
        ? `image ${image} is not an OCI image layout: ${q(file)} is missing`
        : `cannot read ${what} of image ${image} (${q(file)})`,
      {
        hint: missing
          ? 'an OCI image layout has an oci-layout file and an index.json; copy the image with skopeo copy ... oci:DIR:TAG'
          : `check ${file}`,
        cause,
      },
    );
  }
}
