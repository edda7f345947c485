import * as v from 'valibot';

/** The largest id the kernel accepts in a map is 2^32 - 2 (`(uid_t)-1` is reserved). */
export const MAX_ID = 0xfffffffe;

export const IdSchema = v.pipe(
  v.number(),
  v.integer('an id must be an integer'),
  v.minValue(0, 'an id must not be negative'),
  v.maxValue(MAX_ID, `an id must be at most ${MAX_ID}`),
);

/**
 * One line of a user-namespace map: container ids `containerID .. containerID+size-1` are
 * host (outer namespace) ids `hostID .. hostID+size-1`. The field names are the runtime
 * spec's `linux.uidMappings` entries, so a map can be put into a `config.json` as is.
 */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** A subordinate id range handed to a user: ids `start .. start+count-1`. */
export interface SubidRange {
  start: number;
  count: number;
}

/** One parsed line of /etc/subuid or /etc/subgid. */
export interface SubidEntry {
  /** A user name, or a decimal uid, as written (without the `!`). */
  owner: string;
  start: number;
  count: number;
  /** The line started with `!`: the administrator disabled this range. */
  disabled: boolean;
  /** 1-based line number in the file, for messages. */
  line: number;
}

/** The user whose ranges are looked up: entries match by name or by decimal uid. */
export const SubidUserSchema = v.object({
  name: v.string(),
  uid: IdSchema,
});
export type SubidUser = v.InferInput<typeof SubidUserSchema>;

export const SubidRangeSchema = v.object({
  start: IdSchema,
  count: v.pipe(v.number(), v.integer(), v.minValue(1, 'a range must hold at least one id')),
});
