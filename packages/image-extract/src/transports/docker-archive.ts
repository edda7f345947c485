/** The `docker-archive:` transport: a `docker save` tar, read in place. */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import * as v from 'valibot';
import type { BlobSource } from '../core/blob-source.js';
import { assertDigest } from '../core/digest.js';
import { listTags, parseDoc, parseJson } from '../core/documents.js';
import { formatImageRef, parseDockerReference } from '../core/image-ref.js';
import { parseConfigBlob, type Resolved } from '../core/manifest-walk.js';
import { MediaTypes } from '../core/media-types.js';
import { type Descriptor, DescriptorSchema, type ImageManifest } from '../core/schemas.js';
import {
  type ArchiveIndex,
  type ArchiveMember,
  indexArchive,
  sniffCompression,
} from '../core/tar-index.js';
import { blobMissing, digestMismatch, hashRange } from '../core/verified-blob.js';
import { ImageError, q } from '../errors.js';
import { readMember } from './archive-member.js';

const DockerArchiveManifestSchema = v.array(
  v.looseObject({
    Config: v.pipe(v.string(), v.minLength(1)),
    RepoTags: v.nullish(v.array(v.string())),
    Layers: v.array(v.string()),
    LayerSources: v.nullish(v.record(v.string(), DescriptorSchema)),
  }),
);

/** The media type berth gives a docker-archive layer, by the compression it starts with. */
const LAYER_MEDIA_TYPE = {
  gzip: MediaTypes.dockerLayerGzip,
  zstd: MediaTypes.ociLayerZstd,
  none: MediaTypes.dockerLayer,
} as const;

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
export async function resolveDockerArchive(
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
      const { bytesRead } = await fh.read(head, 0, Math.min(4, lm.size), lm.offset);
      const compression = sniffCompression(head.subarray(0, bytesRead));
      const mediaType = LAYER_MEDIA_TYPE[compression];
      // An uncompressed layer is its own diff_id; a compressed one is hashed.
      const digest =
        compression === 'none' ? diffId : `sha256:${await hashRange(fh, lm.offset, lm.size)}`;
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
