import * as v from 'valibot';
import { defaultCacheDir } from './cache/cache-dir.js';
import type { BlobSource } from './core/blob-source.js';
import { formatImageRef, type ImageRef, ImageRefSchema, parseImageRef } from './core/image-ref.js';
import { checkConfigPlatform, type Resolved } from './core/manifest-walk.js';
import { hostPlatform, PlatformChoiceSchema } from './core/platform.js';
import type { ResolvedImage } from './core/resolved-image.js';
import { debug } from './debug.js';
import { parseImageOptions, q } from './errors.js';
import { RegistryOptionsSchema } from './registry/options.js';
import { resolveDockerArchive } from './transports/docker-archive.js';
import { resolveLayout } from './transports/oci-layout.js';
import { resolveFromRegistry } from './transports/registry.js';

/** Options of `resolveImage`. */
export const ResolveOptionsSchema = v.strictObject({
  /** Platform to pick from an image index; default linux + this host's architecture. */
  platform: v.optional(PlatformChoiceSchema),
  /** `docker://` only: the cache whose blob store receives manifests, configs and layers (default `defaultCacheDir(env)`). */
  cacheDir: v.optional(v.pipe(v.string(), v.minLength(1))),
  ...RegistryOptionsSchema.entries,
});
export type ResolveOptions = v.InferInput<typeof ResolveOptionsSchema>;

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
  const opts = parseImageOptions(ResolveOptionsSchema, options, 'resolveImage options');
  const ref =
    typeof input === 'string'
      ? parseImageRef(input)
      : parseImageOptions(ImageRefSchema, input, 'image reference');
  const want = opts.platform ?? hostPlatform();
  const image = q(formatImageRef(ref), 300);
  let r: Resolved;
  let source: BlobSource;
  if (ref.transport === 'oci' || ref.transport === 'oci-archive') {
    ({ resolved: r, source } = await resolveLayout(ref, want, image));
  } else if (ref.transport === 'docker-archive') {
    ({ resolved: r, source } = await resolveDockerArchive(ref.path, ref.reference, image));
  } else {
    const { platform: _p, cacheDir: _c, ...registryOptions } = opts;
    const cacheDir =
      opts.cacheDir ?? defaultCacheDir((opts.env ?? process.env) as NodeJS.ProcessEnv);
    ({ resolved: r, source } = await resolveFromRegistry(
      ref,
      cacheDir,
      registryOptions,
      want,
      image,
    ));
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
