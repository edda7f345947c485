import * as v from 'valibot';

/** An OCI platform (`os`, `architecture`, optional `variant`), as in an image index. */
export const PlatformSchema = v.looseObject({
  architecture: v.string(),
  os: v.string(),
  'os.version': v.optional(v.string()),
  'os.features': v.optional(v.array(v.string())),
  variant: v.optional(v.string()),
  features: v.optional(v.array(v.string())),
});
export type Platform = v.InferOutput<typeof PlatformSchema>;

const AnnotationsSchema = v.record(v.string(), v.string());

/**
 * A content descriptor. The digest is checked separately (`assertDigest`) so the error names it
 * clearly; size must be a non-negative safe integer.
 */
export const DescriptorSchema = v.looseObject({
  mediaType: v.string(),
  digest: v.string(),
  size: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  urls: v.optional(v.array(v.string())),
  annotations: v.optional(AnnotationsSchema),
  platform: v.optional(PlatformSchema),
  artifactType: v.optional(v.string()),
});
export type Descriptor = v.InferOutput<typeof DescriptorSchema>;

/** A layer descriptor of a resolved image, with the config's `diff_id` for that layer. */
export type LayerDescriptor = Descriptor & { diffId: string };

/** The `oci-layout` file. */
export const ImageLayoutSchema = v.looseObject({ imageLayoutVersion: v.string() });

/** An image index (`index.json`, a nested OCI index, or a Docker manifest list). */
export const ImageIndexSchema = v.looseObject({
  schemaVersion: v.literal(2),
  mediaType: v.optional(v.string()),
  artifactType: v.optional(v.string()),
  manifests: v.array(DescriptorSchema),
  annotations: v.optional(AnnotationsSchema),
});
export type ImageIndex = v.InferOutput<typeof ImageIndexSchema>;

/** An image manifest (OCI, or Docker v2 schema 2). */
export const ImageManifestSchema = v.looseObject({
  schemaVersion: v.literal(2),
  mediaType: v.optional(v.string()),
  artifactType: v.optional(v.string()),
  config: DescriptorSchema,
  layers: v.array(DescriptorSchema),
  subject: v.optional(DescriptorSchema),
  annotations: v.optional(AnnotationsSchema),
});
export type ImageManifest = v.InferOutput<typeof ImageManifestSchema>;

/** The `config` member of an image config (Docker writes `null` for empty values). */
const ContainerConfigSchema = v.looseObject({
  User: v.nullish(v.string()),
  ExposedPorts: v.nullish(v.record(v.string(), v.unknown())),
  Env: v.nullish(v.array(v.string())),
  Entrypoint: v.nullish(v.array(v.string())),
  Cmd: v.nullish(v.array(v.string())),
  Volumes: v.nullish(v.record(v.string(), v.unknown())),
  WorkingDir: v.nullish(v.string()),
  Labels: v.nullish(v.record(v.string(), v.string())),
  StopSignal: v.nullish(v.string()),
  ArgsEscaped: v.nullish(v.boolean()),
});

/** An image config (OCI `config.v1+json` or Docker `container.image.v1+json`). */
export const ImageConfigSchema = v.looseObject({
  created: v.nullish(v.string()),
  author: v.nullish(v.string()),
  architecture: v.optional(v.string()),
  os: v.optional(v.string()),
  variant: v.optional(v.string()),
  config: v.nullish(ContainerConfigSchema),
  rootfs: v.looseObject({
    type: v.literal('layers'),
    diff_ids: v.array(v.string()),
  }),
  history: v.nullish(v.array(v.looseObject({}))),
});
export type ImageConfig = v.InferOutput<typeof ImageConfigSchema>;
