/**
 * The core of resolving, common to every transport: from the descriptor of an index or a
 * manifest down to a verified manifest and config.
 */
import { ImageError, q } from '../errors.js';
import { assertDigest } from './digest.js';
import { hasField, parseDoc, parseJson, type ReadDoc } from './documents.js';
import {
  CONFIG_MEDIA_TYPES,
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  SCHEMA1_MEDIA_TYPES,
} from './media-types.js';
import { formatPlatform, type PlatformChoice, platformMatches } from './platform.js';
import {
  type Descriptor,
  type ImageConfig,
  ImageConfigSchema,
  type ImageIndex,
  ImageIndexSchema,
  type ImageManifest,
  ImageManifestSchema,
  type LayerDescriptor,
  type Platform,
} from './schemas.js';

/** Nested indexes followed at most this deep. */
const MAX_INDEX_DEPTH = 4;

/** Picks the first entry of an index that matches the platform; ERR_IMAGE_PLATFORM lists the others. */
export function selectPlatform(
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
    { hint: 'pick one of the listed platforms (--platform OS/ARCH[/VARIANT])' },
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

/** What a transport resolved: an image without its reference and blob source. */
export interface Resolved {
  manifestDigest: string;
  manifest: ImageManifest;
  configDigest: string;
  config: ImageConfig;
  layers: LayerDescriptor[];
  platform?: Platform;
  indexDigests: string[];
}

/**
 * From a descriptor (of an index or a manifest) down to a verified manifest and config:
 * nested indexes are followed by platform, every document is verified before it is parsed,
 * `mediaType` inside must equal the descriptor's, and manifests/indexes carrying the other
 * kind's fields are refused (CVE-2021-41190).
 */
export async function followDescriptor(
  start: Descriptor,
  readDoc: ReadDoc,
  image: string,
  want: PlatformChoice,
  startWhere: string,
): Promise<Resolved> {
  let desc = start;
  let where = startWhere;
  let platform: Platform | undefined = desc.platform;
  const indexDigests: string[] = [];
  for (let depth = 0; ; depth++) {
    assertDigest(desc.digest, `a descriptor in ${where} of image ${image}`);
    if (MANIFEST_MEDIA_TYPES.has(desc.mediaType)) break;
    if (!INDEX_MEDIA_TYPES.has(desc.mediaType)) {
      const schema1 = SCHEMA1_MEDIA_TYPES.has(desc.mediaType);
      throw new ImageError(
        'ERR_IMAGE_MEDIA_TYPE',
        `blob ${desc.digest} of image ${image} has media type ${q(desc.mediaType)}, which is neither an image manifest nor an image index`,
        {
          hint: schema1
            ? 'Docker schema 1 manifests are not supported; push the image again with a current tool'
            : 'only container images (OCI or Docker v2 schema 2) can be run',
        },
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
    const data = await readDoc(desc, 'image index');
    const doc = parseJson(data, 'image index', where2, 'ERR_IMAGE_MANIFEST_INVALID');
    if (hasField(doc, 'config') || hasField(doc, 'layers')) {
      throw new ImageError(
        'ERR_IMAGE_MEDIA_TYPE',
        `blob ${desc.digest} of image ${image} is described as an image index but has manifest fields ("config"/"layers")`,
        { hint: 'the image is ambiguous (CVE-2021-41190); do not use it' },
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
    indexDigests.push(desc.digest);
    desc = selectPlatform(nested.manifests, want, image, `image index ${desc.digest}`);
    platform = desc.platform;
    where = where2;
  }

  // The manifest.
  const manifestDigest = desc.digest;
  const mdata = await readDoc(desc, 'image manifest');
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
      { hint: 'the image is ambiguous (CVE-2021-41190); do not use it' },
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
  const cdata = await readDoc(cdesc, 'image config');
  const { config, layers } = parseConfig(cdata, cdesc.digest, manifest, manifestDigest, image);
  const out: Resolved = {
    manifestDigest,
    manifest,
    configDigest: cdesc.digest,
    config,
    layers,
    indexDigests,
  };
  if (platform !== undefined) out.platform = platform;
  return out;
}

export /** Parses a (verified) config blob and checks it has one diff_id per layer. */
function parseConfigBlob(
  cdata: Buffer,
  configDigest: string,
  layerCount: number,
  image: string,
  hint: string,
): ImageConfig {
  const cdoc = parseJson(cdata, 'image config', `blob ${configDigest}`, 'ERR_IMAGE_CONFIG_INVALID');
  const config = parseDoc(
    ImageConfigSchema,
    cdoc,
    'image config',
    `blob ${configDigest}`,
    'ERR_IMAGE_CONFIG_INVALID',
  );
  const count = config.rootfs.diff_ids.length;
  if (count !== layerCount) {
    throw new ImageError(
      'ERR_IMAGE_CONFIG_INVALID',
      `config ${configDigest} of image ${image} lists ${count} diff_ids for ${layerCount} layers`,
      { hint },
    );
  }
  return config;
}

function parseConfig(
  cdata: Buffer,
  configDigest: string,
  manifest: ImageManifest,
  manifestDigest: string,
  image: string,
): { config: ImageConfig; layers: LayerDescriptor[] } {
  const config = parseConfigBlob(
    cdata,
    configDigest,
    manifest.layers.length,
    image,
    'the image is malformed; rebuild it',
  );
  const diffIds = config.rootfs.diff_ids;
  const layers: LayerDescriptor[] = manifest.layers.map((layer, i) => {
    assertDigest(layer.digest, `layer ${i + 1} of manifest ${manifestDigest}`);
    const diffId = diffIds[i] as string;
    assertDigest(diffId, `diff_id ${i + 1} of config ${configDigest}`);
    return { ...layer, diffId };
  });
  return { config, layers };
}

/** With an explicit platform, a single-platform image must be for it (its config says). */
export function checkConfigPlatform(
  config: ImageConfig,
  want: PlatformChoice | undefined,
  image: string,
): void {
  if (!want || config.architecture === undefined || config.os === undefined) return;
  const have = {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
  };
  if (!platformMatches(have, want)) {
    throw new ImageError(
      'ERR_IMAGE_PLATFORM',
      `image ${image} is for ${formatPlatform(have)}, not ${formatPlatform(want)}`,
      { hint: `this image has one platform only; drop --platform or use ${formatPlatform(have)}` },
    );
  }
}
