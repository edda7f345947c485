/** The `docker://` transport: manifests and config from a registry, into the blob cache. */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { isBerthError } from '@berth-oci/errors';
import { blobCachePath, privateDir, storeBlob } from '../cache/blob-cache.js';
import type { BlobSource } from '../core/blob-source.js';
import { isDigest } from '../core/digest.js';
import { hasField, MAX_DOCUMENT_BYTES, parseJson, type ReadDoc } from '../core/documents.js';
import type { DockerRef } from '../core/image-ref.js';
import { followDescriptor, type Resolved } from '../core/manifest-walk.js';
import {
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  MediaTypes,
  SCHEMA1_MEDIA_TYPES,
} from '../core/media-types.js';
import type { PlatformChoice } from '../core/platform.js';
import type { Descriptor } from '../core/schemas.js';
import { digestMismatch, readVerifiedBlob, verifyBuffer } from '../core/verified-blob.js';
import { debug } from '../debug.js';
import { ImageError, q } from '../errors.js';
import { RegistryClient } from '../registry/client.js';
import type { ResolvedRegistryOptions } from '../registry/options.js';

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

/**
 * Resolves a `docker://` reference: the manifest by tag or digest (by digest, the blob cache
 * answers without the network when it has it), then nested indexes and the config, each
 * verified and stored in the blob cache of `cacheDir`, which is the image's blob source.
 */
export async function resolveFromRegistry(
  ref: DockerRef,
  cacheDir: string,
  registryOptions: ResolvedRegistryOptions,
  want: PlatformChoice,
  image: string,
): Promise<{ resolved: Resolved; source: BlobSource }> {
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
  return {
    resolved: await followDescriptor(top, readDoc, image, want, 'the registry'),
    source: { kind: 'dir', dir: path.resolve(cacheDir) },
  };
}
