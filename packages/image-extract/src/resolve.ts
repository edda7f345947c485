import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { isBerthError, parseOptions } from '@berth-oci/errors';
import * as v from 'valibot';
import { type ArchiveIndex, type ArchiveMember, indexArchive } from './archive.js';
import {
  blobMissing,
  digestMismatch,
  hashRange,
  openBlob,
  readVerifiedBlob,
  verifyBuffer,
} from './blob.js';
import { blobCachePath, privateDir, storeBlob } from './blob-cache.js';
import { defaultCacheDir } from './cache-dir.js';
import { debug } from './debug.js';
import { assertDigest, isDigest } from './digest.js';
import { ImageError, q } from './errors.js';
import {
  CONFIG_MEDIA_TYPES,
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  MediaTypes,
  SCHEMA1_MEDIA_TYPES,
} from './media-types.js';
import {
  formatPlatform,
  hostPlatform,
  type PlatformChoice,
  PlatformChoiceSchema,
  platformMatches,
} from './platform.js';
import {
  type DockerRef,
  formatImageRef,
  type ImageRef,
  ImageRefSchema,
  parseDockerReference,
  parseImageRef,
} from './ref.js';
import { RegistryClient, RegistryOptionsSchema } from './registry.js';
import type { ResolvedImage } from './resolved-image.js';
import {
  type Descriptor,
  DescriptorSchema,
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
import { type BlobSource, locateBlob } from './source.js';

/** Options of `resolveImage`. */
export const ResolveOptionsSchema = v.object({
  /** Platform to pick from an image index; default linux + this host's architecture. */
  platform: v.optional(PlatformChoiceSchema),
  /** `docker://` only: the cache whose blob store receives manifests, configs and layers (default `defaultCacheDir(env)`). */
  cacheDir: v.optional(v.pipe(v.string(), v.minLength(1))),
  ...RegistryOptionsSchema.entries,
});
export type ResolveOptions = v.InferInput<typeof ResolveOptionsSchema>;

const REF_NAME = 'org.opencontainers.image.ref.name';
/** Largest index, manifest or config this reader accepts. */
export const MAX_DOCUMENT_BYTES = 8 << 20;
/** Nested indexes followed at most this deep. */
const MAX_INDEX_DEPTH = 4;

type DocCode =
  | 'ERR_IMAGE_MANIFEST_INVALID'
  | 'ERR_IMAGE_CONFIG_INVALID'
  | 'ERR_IMAGE_LAYOUT_INVALID'
  | 'ERR_IMAGE_ARCHIVE_INVALID';
type DocKind = 'image index' | 'image manifest' | 'image config';
/** Reads a document blob, verified against its descriptor's size and digest. */
type ReadDoc = (desc: Descriptor, what: DocKind) => Promise<Buffer>;

function parseJson(data: Buffer, what: string, where: string, code: DocCode): unknown {
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
  code: DocCode,
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

function hasField(doc: unknown, field: string): boolean {
  return typeof doc === 'object' && doc !== null && Object.hasOwn(doc, field);
}

interface Resolved {
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
async function followDescriptor(
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

/** Parses a (verified) config blob and checks it has one diff_id per layer. */
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
function checkConfigPlatform(
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

/**
 * Resolves an image reference to a verified manifest and config, for every transport:
 * `oci:` layouts, `oci-archive:` and `docker-archive:` tars (read in place), and `docker://`
 * registries (manifests and config fetched into the blob cache of `cacheDir`). Every document
 * is checked against its descriptor's size and sha256 digest before it is parsed. Layers are
 * verified when fetched (`fetchImageBlobs`) and again when unpacked.
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
  let r: Resolved;
  let source: BlobSource;
  if (ref.transport === 'oci' || ref.transport === 'oci-archive') {
    const layout =
      ref.transport === 'oci' ? await dirLayout(ref.path, image) : archiveLayout(ref.path, image);
    source = layout.source;
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
    r = await followDescriptor(start, readDoc, image, want, 'index.json');
  } else if (ref.transport === 'docker-archive') {
    ({ resolved: r, source } = await dockerArchive(ref.path, ref.reference, image));
  } else {
    const cacheDir =
      opts.cacheDir ?? defaultCacheDir((opts.env ?? process.env) as NodeJS.ProcessEnv);
    r = await fromRegistry(ref, cacheDir, opts, want, image);
    source = { kind: 'dir', dir: path.resolve(cacheDir) };
  }
  if (r.indexDigests.length === 0) checkConfigPlatform(r.config, opts.platform, image);
  debug(
    'resolved %s to manifest %s (%d layers)',
    formatImageRef(ref),
    r.manifestDigest,
    r.layers.length,
  );
  return { ref, ...r, source };
}

// ---- OCI layouts: directories and archives ----

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

async function readMember(
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

// ---- docker-archive ----

const DockerArchiveManifestSchema = v.array(
  v.looseObject({
    Config: v.pipe(v.string(), v.minLength(1)),
    RepoTags: v.nullish(v.array(v.string())),
    Layers: v.array(v.string()),
    LayerSources: v.nullish(v.record(v.string(), DescriptorSchema)),
  }),
);

function normalTag(name: string): string | undefined {
  try {
    return formatImageRef(parseDockerReference(name));
  } catch {
    return undefined;
  }
}

/**
 * A `docker save` archive: `manifest.json` names the config and the layer tars, which are read
 * in place. Docker archives carry no manifest and no layer digests: berth builds the Docker v2
 * manifest they stand for (its digest keys the rootfs cache); an uncompressed layer's digest is
 * its diff_id, a compressed one is hashed here. Everything is verified again when unpacked.
 */
async function dockerArchive(
  file: string,
  reference: string | undefined,
  image: string,
): Promise<{ resolved: Resolved; source: BlobSource }> {
  const index: ArchiveIndex = indexArchive(file);
  const mm = index.get('manifest.json');
  if (!mm) {
    throw new ImageError(
      'ERR_IMAGE_ARCHIVE_INVALID',
      `image ${image} is not a docker archive: it has no manifest.json`,
      {
        hint: 'create it with docker save or skopeo copy ... docker-archive:FILE',
      },
    );
  }
  const where = `manifest.json of ${q(file)}`;
  const entries = parseDoc(
    DockerArchiveManifestSchema,
    parseJson(
      await readMember(file, mm, 'manifest.json', image),
      'docker archive manifest',
      where,
      'ERR_IMAGE_ARCHIVE_INVALID',
    ),
    'docker archive manifest',
    where,
    'ERR_IMAGE_ARCHIVE_INVALID',
  );
  const allTags = entries.flatMap((e) => e.RepoTags ?? []);
  let entry: (typeof entries)[number] | undefined;
  if (reference === undefined) {
    if (entries.length !== 1) {
      throw new ImageError(
        entries.length === 0 ? 'ERR_IMAGE_NOT_FOUND' : 'ERR_IMAGE_TAG_REQUIRED',
        entries.length === 0
          ? `image ${image} not found: the archive holds no image`
          : `image ${image} holds ${entries.length} images; name one: ${listTags(allTags)}`,
        { hint: 'write docker-archive:FILE:NAME:TAG or docker-archive:FILE:@N (N from 0)' },
      );
    }
    entry = entries[0];
  } else if (/^@\d+$/.test(reference)) {
    entry = entries[Number(reference.slice(1))];
  } else {
    const want = normalTag(reference);
    entry = entries.find((e) =>
      (e.RepoTags ?? []).some(
        (t) => t === reference || (want !== undefined && normalTag(t) === want),
      ),
    );
  }
  if (!entry) {
    throw new ImageError(
      'ERR_IMAGE_NOT_FOUND',
      `image ${image} not found in the archive; it has ${listTags(allTags)}`,
      {
        hint: 'name one of the listed images, or @N for the N-th (from 0)',
      },
    );
  }

  // The config, hashed here (a docker archive names it by digest; that name must hold).
  const cname = entry.Config.replace(/^\.?\/+/, '');
  const cm = index.get(cname);
  if (!cm) {
    throw new ImageError(
      'ERR_IMAGE_ARCHIVE_INVALID',
      `image ${image} has no config ${q(cname)} in the archive`,
      {
        hint: 'the archive is incomplete; create it again',
      },
    );
  }
  const cdata = await readMember(file, cm, cname, image);
  const configDigest = `sha256:${createHash('sha256').update(cdata).digest('hex')}`;
  const named = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(cname)?.[1];
  if (named !== undefined && `sha256:${named}` !== configDigest) {
    throw digestMismatch(
      { digest: `sha256:${named}` },
      'image config',
      image,
      configDigest.slice(7),
    );
  }
  const config = parseConfigBlob(
    cdata,
    configDigest,
    entry.Layers.length,
    image,
    'the archive is malformed; create it again',
  );
  const diffIds = config.rootfs.diff_ids;

  // The layers: read in place; compression sniffed from their first bytes.
  const members: Record<string, ArchiveMember> = {};
  members[configDigest] = cm;
  const layerDescs: Descriptor[] = [];
  const fh = await open(file, 'r');
  try {
    for (let i = 0; i < entry.Layers.length; i++) {
      const diffId = diffIds[i] as string;
      assertDigest(diffId, `diff_id ${i + 1} of config ${configDigest}`);
      const lname = (entry.Layers[i] as string).replace(/^\.?\/+/, '');
      const lm = index.get(lname);
      if (!lm) {
        const foreign = entry.LayerSources?.[diffId];
        if (foreign) throw blobMissing(foreign, `layer ${i + 1}`, image, `${lname} in ${q(file)}`);
        throw new ImageError(
          'ERR_IMAGE_ARCHIVE_INVALID',
          `layer ${i + 1} (${q(lname)}) of image ${image} is not in the archive`,
          {
            hint: 'the archive is incomplete; create it again',
          },
        );
      }
      const head = Buffer.alloc(4);
      await fh.read(head, 0, Math.min(4, lm.size), lm.offset);
      let mediaType: string;
      let digest: string;
      if (head[0] === 0x1f && head[1] === 0x8b) {
        mediaType = MediaTypes.dockerLayerGzip;
        digest = `sha256:${await hashRange(fh, lm.offset, lm.size)}`;
      } else if (head.readUInt32LE(0) === 0xfd2fb528) {
        mediaType = MediaTypes.ociLayerZstd;
        digest = `sha256:${await hashRange(fh, lm.offset, lm.size)}`;
      } else {
        mediaType = MediaTypes.dockerLayer;
        digest = diffId;
      }
      // The same layer listed twice reads from its first place; both are verified when used.
      members[digest] ??= lm;
      layerDescs.push({ mediaType, digest, size: lm.size });
    }
  } finally {
    await fh.close();
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.dockerManifest,
    config: { mediaType: MediaTypes.dockerConfig, digest: configDigest, size: cdata.length },
    layers: layerDescs,
  };
  const manifestDigest = `sha256:${createHash('sha256').update(JSON.stringify(manifest)).digest('hex')}`;
  const layers = layerDescs.map((d, i) => ({ ...d, diffId: diffIds[i] as string }));
  return {
    resolved: { manifestDigest, manifest, configDigest, config, layers, indexDigests: [] },
    source: { kind: 'archive', file, members },
  };
}

// ---- docker:// ----

/**
 * The media type of a manifest or index fetched from a registry, checking that the body and the
 * `Content-Type` agree (media-type confusion) and refusing Docker schema 1.
 */
function fetchedMediaType(
  data: Buffer,
  contentType: string,
  digest: string,
  image: string,
): string {
  const doc = parseJson(data, 'image manifest', `blob ${digest}`, 'ERR_IMAGE_MANIFEST_INVALID');
  const body =
    typeof doc === 'object' &&
    doc !== null &&
    typeof (doc as { mediaType?: unknown }).mediaType === 'string'
      ? ((doc as { mediaType: string }).mediaType as string)
      : undefined;
  const version = (doc as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (
    version === 1 ||
    SCHEMA1_MEDIA_TYPES.has(contentType) ||
    (body !== undefined && SCHEMA1_MEDIA_TYPES.has(body))
  ) {
    throw new ImageError(
      'ERR_IMAGE_MEDIA_TYPE',
      `manifest ${digest} of image ${image} is a Docker schema 1 manifest`,
      {
        hint: 'schema 1 is deprecated and not supported; push the image again with a current tool',
      },
    );
  }
  const known = (t: string) => INDEX_MEDIA_TYPES.has(t) || MANIFEST_MEDIA_TYPES.has(t);
  if (body !== undefined && known(contentType) && body !== contentType) {
    throw new ImageError(
      'ERR_IMAGE_MEDIA_TYPE',
      `the registry served blob ${digest} of image ${image} as ${q(contentType)} but it declares ${q(body)}`,
      {
        hint: 'the registry or the image is crafted to be read differently by different tools; do not use it',
      },
    );
  }
  let effective = body ?? (known(contentType) ? contentType : undefined);
  if (effective === undefined) {
    // Neither says: go by the fields (an OCI manifest may omit mediaType).
    if (hasField(doc, 'manifests') && !hasField(doc, 'config')) effective = MediaTypes.ociIndex;
    else if (hasField(doc, 'config') && !hasField(doc, 'manifests'))
      effective = MediaTypes.ociManifest;
  }
  if (effective === undefined || !known(effective)) {
    throw new ImageError(
      'ERR_IMAGE_MEDIA_TYPE',
      `blob ${digest} of image ${image} has media type ${q(effective ?? (contentType || 'none'))}, which is neither an image manifest nor an image index`,
      { hint: 'only container images (OCI or Docker v2 schema 2) can be run' },
    );
  }
  return effective;
}

async function cachedDoc(
  cacheDir: string,
  desc: Descriptor,
  what: string,
  image: string,
): Promise<Buffer | undefined> {
  try {
    return await readVerifiedBlob(
      { file: blobCachePath(cacheDir, desc.digest), offset: 0, length: undefined },
      desc,
      what,
      image,
      MAX_DOCUMENT_BYTES,
    );
  } catch (error) {
    if (!isBerthError(error) || error.code !== 'ERR_IMAGE_BLOB_MISSING')
      debug('cached %s %s unusable: %s', what, desc.digest, (error as Error).message);
    return undefined;
  }
}

async function fromRegistry(
  ref: DockerRef,
  cacheDir: string,
  opts: v.InferOutput<typeof ResolveOptionsSchema>,
  want: PlatformChoice,
  image: string,
): Promise<Resolved> {
  const { platform: _p, cacheDir: _c, ...registryOptions } = opts;
  const client = new RegistryClient(ref, registryOptions);
  await privateDir(path.join(path.resolve(cacheDir), 'blobs', 'sha256'));
  const memo = new Map<string, Buffer>();

  const fetchTop = async (reference: string): Promise<Descriptor> => {
    const got = await client.getManifest(reference, MAX_DOCUMENT_BYTES);
    const digest = `sha256:${createHash('sha256').update(got.data).digest('hex')}`;
    if (isDigest(reference) && digest !== reference)
      throw digestMismatch({ digest: reference }, 'image manifest', image, digest.slice(7));
    if (
      !isDigest(reference) &&
      got.digestHeader?.startsWith('sha256:') &&
      got.digestHeader !== digest
    ) {
      throw new ImageError(
        'ERR_IMAGE_DIGEST_MISMATCH',
        `the registry says ${reference} of image ${image} is ${got.digestHeader}, but the manifest it sent is ${digest}`,
        { hint: 'the registry is broken or hostile' },
      );
    }
    const mediaType = fetchedMediaType(got.data, got.contentType, digest, image);
    memo.set(digest, got.data);
    await storeBlob(cacheDir, digest, got.data);
    return { mediaType, digest, size: got.data.length };
  };

  let top: Descriptor;
  if (ref.digest !== undefined) {
    // By digest: the cache can answer without the network.
    let cached: Buffer | undefined;
    try {
      const st = await stat(blobCachePath(cacheDir, ref.digest));
      if (st.isFile() && st.size <= MAX_DOCUMENT_BYTES)
        cached = await cachedDoc(
          cacheDir,
          { mediaType: '', digest: ref.digest, size: st.size },
          'image manifest',
          image,
        );
    } catch {
      cached = undefined;
    }
    if (cached) {
      memo.set(ref.digest, cached);
      top = {
        mediaType: fetchedMediaType(cached, '', ref.digest, image),
        digest: ref.digest,
        size: cached.length,
      };
    } else {
      top = await fetchTop(ref.digest);
    }
  } else {
    top = await fetchTop(ref.tag ?? 'latest');
  }

  const readDoc: ReadDoc = async (desc, what) => {
    const m = memo.get(desc.digest);
    if (m) {
      verifyBuffer(m, desc, what, image);
      return m;
    }
    const cached = await cachedDoc(cacheDir, desc, what, image);
    if (cached) return cached;
    let data: Buffer;
    if (what === 'image config') {
      data = await client.getBlob(desc, what, MAX_DOCUMENT_BYTES);
    } else {
      if (desc.size > MAX_DOCUMENT_BYTES) {
        throw new ImageError(
          'ERR_IMAGE_LIMIT',
          `blob ${desc.digest} (${what}) of image ${image} is ${desc.size} bytes, over the ${MAX_DOCUMENT_BYTES}-byte limit`,
          {
            hint: 'this is not a normal image',
          },
        );
      }
      const got = await client.getManifest(desc.digest, MAX_DOCUMENT_BYTES);
      verifyBuffer(got.data, desc, what, image);
      fetchedMediaType(got.data, got.contentType, desc.digest, image);
      data = got.data;
    }
    await storeBlob(cacheDir, desc.digest, data);
    return data;
  };
  return followDescriptor(top, readDoc, image, want, 'the registry');
}

/** Where blob `digest` of a resolved image is (for reading it yourself). */
export function blobLocation(image: ResolvedImage, digest: string) {
  return locateBlob(image.source, digest);
}
