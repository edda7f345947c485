/**
 * What the launcher and its unpack worker say to each other: one request as JSON on the
 * worker's stdin, then JSON lines on its stdout. Both sides check what they read against these
 * schemas; an error crosses as `errorToJSON` output, so its code, hint, stack and whether it is
 * a bug in berth survive the trip.
 */
import { BerthErrorJSONSchema } from '@berth-oci/errors';
import { ResolvedImageSchema, type UnpackProgress } from '@berth-oci/image-extract';
import * as v from 'valibot';

const IdMappingSchema = v.object({
  containerID: v.number(),
  hostID: v.number(),
  size: v.number(),
});
const OwnerMapsSchema = v.nullable(
  v.object({ uid: v.array(IdMappingSchema), gid: v.array(IdMappingSchema) }),
);

/** What the unpack worker reads on stdin. */
export const WorkerRequestSchema = v.variant('op', [
  v.strictObject({
    op: v.literal('unpack'),
    /** The image, resolved (and its layers fetched) by the parent. */
    image: ResolvedImageSchema,
    /** The reference as the user wrote it, for messages. */
    imageRef: v.string(),
    cacheDir: v.string(),
    variant: v.string(),
    ownerMaps: OwnerMapsSchema,
  }),
  /** Unpack the image into `dest` (not the cache): the rootfs of an `oci mount` bundle. */
  v.strictObject({
    op: v.literal('unpack-into'),
    image: ResolvedImageSchema,
    dest: v.string(),
    ownerMaps: OwnerMapsSchema,
  }),
  /** Remove trees whose files belong to subordinate ids. */
  v.strictObject({ op: v.literal('remove'), paths: v.array(v.string()) }),
]);
export type WorkerRequest = v.InferOutput<typeof WorkerRequestSchema>;

/** One line the unpack worker writes on stdout. */
export const WorkerMessageSchema = v.variant('type', [
  v.object({
    type: v.literal('progress'),
    event: v.custom<UnpackProgress>((x) => typeof x === 'object' && x !== null),
  }),
  v.object({ type: v.literal('warning'), message: v.string() }),
  v.object({ type: v.literal('done'), path: v.string() }),
  v.object({ type: v.literal('error'), error: BerthErrorJSONSchema }),
]);
export type WorkerMessage = v.InferOutput<typeof WorkerMessageSchema>;
