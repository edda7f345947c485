import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { parseOptions } from '@berth/errors';
import * as v from 'valibot';
import { layoutBlobPath, readVerifiedBlob } from './blob.js';
import { debug } from './debug.js';
import { assertDigest } from './digest.js';
import { ImageError, q } from './errors.js';
import { CONFIG_MEDIA_TYPES, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from './media-types.js';
import {
  formatPlatform,
  hostPlatform,
  type PlatformChoice,
  PlatformChoiceSchema,
  platformMatches,
} from './platform.js';
import { formatImageRef, type ImageRef, ImageRefSchema, parseImageRef } from './ref.js';
import {
  type Descriptor,
  type ImageConfig,
  ImageConfigSchema,
  type ImageIndex,
  ImageIndexSchema,
  ImageLayoutSchema,
  type ImageManifest,
  ImageManifestSchema,
  type LayerDescriptor,
  type Platform,
} from './schemas.js';

/** Options of `resolveImage`. */
export const ResolveOptionsSchema = v.object({
  /** Platform to pick from an image index; default linux + this host's architecture. */
  platform: v.optional(PlatformChoiceSchema),
});
export type ResolveOptions = v.InferInput<typeof ResolveOptionsSchema>;

/** An image whose index, manifest and config were read and verified. */
export interface ResolvedImage {
  ref: ImageRef;
  /** Digest of the selected image manifest (the key of the unpacked-rootfs cache). */
  manifestDigest: string;
  manifest: ImageManifest;
  /** The parsed image config. */
  config: ImageConfig;
  /** The manifest's layers in order, each with its `diffId` from the config. */
  layers: LayerDescriptor[];
  /** Platform of the manifest, when it was selected from an index that said. */
  platform?: Platform;
  /** Path of a blob in the layout (throws ERR_IMAGE_DIGEST_INVALID for a malformed digest). */
  blobPath(digest: string): string;
}

const REF_NAME = 'org.opencontainers.image.ref.name';
/** Largest index, manifest or config this reader accepts. */
const MAX_DOCUMENT_BYTES = 8 << 20;
/** Nested indexes followed at most this deep. */
const MAX_INDEX_DEPTH = 4;

function parseJson(
  data: Buffer,
  what: string,
  where: string,
  code: 'ERR_IMAGE_MANIFEST_INVALID' | 'ERR_IMAGE_CONFIG_INVALID' | 'ERR_IMAGE_LAYOUT_INVALID',
): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (cause) {
    throw new ImageError(code, `${where} (${what}) is not valid JSON`, {
      hint: 'the image is malformed; rebuild or copy it again',
      cause,
    });
  }
}

function parseDoc<S extends v.GenericSchema>(
  schema: S,
  doc: unknown,
  what: string,
  where: string,
  code: 'ERR_IMAGE_MANIFEST_INVALID' | 'ERR_IMAGE_CONFIG_INVALID' | 'ERR_IMAGE_LAYOUT_INVALID',
): v.InferOutput<S> {
  const result = v.safeParse(schema, doc);
  if (result.success) return result.output;
  throw new ImageError(code, `${where} is not a valid ${what}: ${v.summarize(result.issues)}`, {
    hint: 'the image is malformed; rebuild or copy it again',
  });
}

function tagsOf(manifests: readonly Descriptor[]): string[] {
  const tags: string[] = [];
  for (const d of manifests) {
    const t = d.annotations?.[REF_NAME];
    if (t !== undefined && !tags.includes(t)) tags.push(t);
  }
  return tags;
}

function listTags(tags: readonly string[]): string {
  if (tags.length === 0) return 'none';
  const shown = tags.slice(0, 20).map((t) => q(t, 80));
  return `${shown.join(', ')}${tags.length > 20 ? `, and ${tags.length - 20} more` : ''}`;
}

function selectPlatform(
  manifests: readonly Descriptor[],
  want: PlatformChoice,
  image: string,
  where: string,
): Descriptor {
  for (const d of manifests) if (platformMatches(d.platform, want)) return d;
  const have = manifests
    .filter((d) => d.platform !== undefined)
    .map((d) => formatPlatform(d.platform as Platform));
  throw new ImageError(
    'ERR_IMAGE_PLATFORM',
    `image ${image} has no manifest for ${formatPlatform(want)} in ${where}; it has ${have.length ? have.join(', ') : 'no platform-specific manifests'}`,
    { hint: 'pick one of the listed platforms with the platform option' },
  );
}

function checkMediaType(
  doc: { mediaType?: string | undefined },
  desc: Descriptor,
  what: string,
  image: string,
): void {
  if (doc.mediaType !== undefined && doc.mediaType !== desc.mediaType) {
    throw new ImageError(
      'ERR_IMAGE_MEDIA_TYPE',
      `blob ${desc.digest} (${what}) of image ${image} declares media type ${q(doc.mediaType)} but its descriptor says ${q(desc.mediaType)}`,
      {
        hint: 'the image is malformed or crafted to be read differently by different tools; do not use it',
      },
    );
  }
}

function hasField(doc: unknown, field: string): boolean {
  return typeof doc === 'object' && doc !== null && Object.hasOwn(doc, field);
}

/**
 * Resolves an image reference to a verified manifest and config. Every blob read (nested
 * indexes, the manifest, the config) is checked against its descriptor's size and sha256 digest
 * before it is parsed. Layers are only verified when unpacked.
 */
export async function resolveImage(
  input: string | ImageRef,
  options: ResolveOptions = {},
): Promise<ResolvedImage> {
  const opts = parseOptions(ResolveOptionsSchema, options, 'resolveImage options');
  const ref =
    typeof input === 'string'
      ? parseImageRef(input)
      : parseOptions(ImageRefSchema, input, 'image reference');
  const want = opts.platform ?? hostPlatform();
  const image = q(formatImageRef(ref), 300);
  const dir = ref.path;
  const blobPath = (digest: string): string => layoutBlobPath(dir, digest);

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
        hint: 'oci: references name an OCI image layout directory',
      },
    );
  }

  // oci-layout
  const layoutFile = path.join(dir, 'oci-layout');
  const layoutDoc = parseJson(
    await readLayoutFile(layoutFile, image, 'oci-layout'),
    'oci-layout',
    q(layoutFile),
    'ERR_IMAGE_LAYOUT_INVALID',
  );
  const layout = parseDoc(
    ImageLayoutSchema,
    layoutDoc,
    'oci-layout file',
    q(layoutFile),
    'ERR_IMAGE_LAYOUT_INVALID',
  );
  if (layout.imageLayoutVersion !== '1.0.0') {
    throw new ImageError(
      'ERR_IMAGE_LAYOUT_INVALID',
      `image layout ${q(dir)} has imageLayoutVersion ${q(layout.imageLayoutVersion)}, only "1.0.0" is supported`,
      { hint: 'copy the image again with a current tool (skopeo, umoci, buildah, docker buildx)' },
    );
  }

  // index.json
  const indexFile = path.join(dir, 'index.json');
  const indexDoc = parseJson(
    await readLayoutFile(indexFile, image, 'index.json'),
    'image index',
    q(indexFile),
    'ERR_IMAGE_LAYOUT_INVALID',
  );
  const index = parseDoc(
    ImageIndexSchema,
    indexDoc,
    'image index',
    q(indexFile),
    'ERR_IMAGE_LAYOUT_INVALID',
  );
  if (index.mediaType !== undefined && !INDEX_MEDIA_TYPES.has(index.mediaType)) {
    throw new ImageError(
      'ERR_IMAGE_MEDIA_TYPE',
      `${q(indexFile)} has media type ${q(index.mediaType)}, not an image index`,
      {
        hint: 'the image layout is malformed',
      },
    );
  }

  let desc: Descriptor;
  let where = 'index.json';
  if (ref.tag !== undefined) {
    const matches = index.manifests.filter((d) => d.annotations?.[REF_NAME] === ref.tag);
    if (matches.length === 0) {
      throw new ImageError(
        'ERR_IMAGE_NOT_FOUND',
        `image ${image} not found: no tag ${q(ref.tag)} in ${q(indexFile)}; tags: ${listTags(tagsOf(index.manifests))}`,
        {
          hint: 'use one of the listed tags',
        },
      );
    }
    desc =
      matches.length === 1
        ? (matches[0] as Descriptor)
        : selectPlatform(matches, want, image, `the entries tagged ${q(ref.tag)}`);
  } else {
    const tags = tagsOf(index.manifests);
    if (index.manifests.length === 0) {
      throw new ImageError(
        'ERR_IMAGE_NOT_FOUND',
        `image ${image} not found: ${q(indexFile)} lists no manifests`,
        {
          hint: 'the image layout is empty; copy an image into it',
        },
      );
    }
    if (index.manifests.length === 1) desc = index.manifests[0] as Descriptor;
    else if (tags.length === 0 && index.manifests.every((d) => d.platform !== undefined)) {
      desc = selectPlatform(index.manifests, want, image, 'index.json');
    } else {
      throw new ImageError(
        'ERR_IMAGE_TAG_REQUIRED',
        `image ${image} holds ${index.manifests.length} manifests; name one with a tag: ${listTags(tags)}`,
        {
          hint: `write oci:${ref.path}:TAG`,
        },
      );
    }
  }

  // Follow nested indexes down to one manifest.
  let platform: Platform | undefined = desc.platform;
  for (let depth = 0; ; depth++) {
    assertDigest(desc.digest, `a descriptor in ${where} of image ${image}`);
    if (MANIFEST_MEDIA_TYPES.has(desc.mediaType)) break;
    if (!INDEX_MEDIA_TYPES.has(desc.mediaType)) {
      throw new ImageError(
        'ERR_IMAGE_MEDIA_TYPE',
        `blob ${desc.digest} of image ${image} has media type ${q(desc.mediaType)}, which is neither an image manifest nor an image index`,
        { hint: 'only container images (OCI or Docker v2 schema 2) can be run' },
      );
    }
    if (depth >= MAX_INDEX_DEPTH) {
      throw new ImageError(
        'ERR_IMAGE_MANIFEST_INVALID',
        `image ${image} nests image indexes more than ${MAX_INDEX_DEPTH} deep`,
        {
          hint: 'the image is malformed',
        },
      );
    }
    const where2 = `blob ${desc.digest}`;
    const data = await readVerifiedBlob(
      blobPath(desc.digest),
      desc,
      'image index',
      image,
      MAX_DOCUMENT_BYTES,
    );
    const doc = parseJson(data, 'image index', where2, 'ERR_IMAGE_MANIFEST_INVALID');
    if (hasField(doc, 'config') || hasField(doc, 'layers')) {
      throw new ImageError(
        'ERR_IMAGE_MEDIA_TYPE',
        `blob ${desc.digest} of image ${image} is described as an image index but has manifest fields ("config"/"layers")`,
        {
          hint: 'the image is ambiguous (CVE-2021-41190); do not use it',
        },
      );
    }
    const nested: ImageIndex = parseDoc(
      ImageIndexSchema,
      doc,
      'image index',
      where2,
      'ERR_IMAGE_MANIFEST_INVALID',
    );
    checkMediaType(nested, desc, 'image index', image);
    desc = selectPlatform(nested.manifests, want, image, `image index ${desc.digest}`);
    platform = desc.platform;
    where = where2;
  }

  // The manifest.
  const manifestDigest = desc.digest;
  const mdata = await readVerifiedBlob(
    blobPath(desc.digest),
    desc,
    'image manifest',
    image,
    MAX_DOCUMENT_BYTES,
  );
  const mdoc = parseJson(
    mdata,
    'image manifest',
    `blob ${desc.digest}`,
    'ERR_IMAGE_MANIFEST_INVALID',
  );
  if (hasField(mdoc, 'manifests')) {
    throw new ImageError(
      'ERR_IMAGE_MEDIA_TYPE',
      `blob ${desc.digest} of image ${image} is described as an image manifest but has an index field ("manifests")`,
      {
        hint: 'the image is ambiguous (CVE-2021-41190); do not use it',
      },
    );
  }
  const manifest = parseDoc(
    ImageManifestSchema,
    mdoc,
    'image manifest',
    `blob ${desc.digest}`,
    'ERR_IMAGE_MANIFEST_INVALID',
  );
  checkMediaType(manifest, desc, 'image manifest', image);

  // The config.
  const cdesc = manifest.config;
  assertDigest(cdesc.digest, `the config descriptor of manifest ${manifestDigest}`);
  if (!CONFIG_MEDIA_TYPES.has(cdesc.mediaType)) {
    throw new ImageError(
      'ERR_IMAGE_MEDIA_TYPE',
      `manifest ${manifestDigest} of image ${image} has config media type ${q(cdesc.mediaType)}: not a container image`,
      {
        hint: 'only container images (OCI or Docker v2 schema 2) can be run; this may be an artifact such as a Helm chart',
      },
    );
  }
  const cdata = await readVerifiedBlob(
    blobPath(cdesc.digest),
    cdesc,
    'image config',
    image,
    MAX_DOCUMENT_BYTES,
  );
  const cdoc = parseJson(cdata, 'image config', `blob ${cdesc.digest}`, 'ERR_IMAGE_CONFIG_INVALID');
  const config = parseDoc(
    ImageConfigSchema,
    cdoc,
    'image config',
    `blob ${cdesc.digest}`,
    'ERR_IMAGE_CONFIG_INVALID',
  );

  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new ImageError(
      'ERR_IMAGE_CONFIG_INVALID',
      `config ${cdesc.digest} of image ${image} lists ${diffIds.length} diff_ids for ${manifest.layers.length} layers`,
      { hint: 'the image is malformed; rebuild it' },
    );
  }
  const layers: LayerDescriptor[] = manifest.layers.map((layer, i) => {
    assertDigest(layer.digest, `layer ${i + 1} of manifest ${manifestDigest}`);
    const diffId = diffIds[i] as string;
    assertDigest(diffId, `diff_id ${i + 1} of config ${cdesc.digest}`);
    return { ...layer, diffId };
  });

  debug(
    'resolved %s to manifest %s (%d layers)',
    formatImageRef(ref),
    manifestDigest,
    layers.length,
  );
  const out: ResolvedImage = { ref, manifestDigest, manifest, config, layers, blobPath };
  if (platform !== undefined) out.platform = platform;
  return out;
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
