import { parseOptions } from '@berth-oci/errors';
import { IdmapError } from './errors.js';
import { SUBID_RANGE_SIZE } from './subid.js';
import { type IdMapping, IdSchema, type SubidRange, SubidRangeSchema } from './types.js';

/**
 * The outer user namespace's map (docs/launch.md, "The outer user namespace"): the host id becomes 0 and the subordinate
 * range becomes 1..count. The same shape serves uids (host uid, subuid range) and gids.
 */
export function outerMap(hostId: number, range: SubidRange): IdMapping[] {
  const id = parseOptions(IdSchema, hostId, 'host id', IdmapError);
  const r = parseOptions(SubidRangeSchema, range, 'subid range', IdmapError);
  return [
    { containerID: 0, hostID: id, size: 1 },
    { containerID: 1, hostID: r.start, size: r.count },
  ];
}

/**
 * The map for the container's own user namespace, inside the outer one (docs/launch.md,
 * "The inner map: reversing the outer one"):
 * it reverses `outerMap`, so container id `target` is the host user again and the other
 * ids land on subordinate ids. `hostID` here means an id of the *outer* namespace.
 * `target` is the host uid (or gid), `subidCount` the size of the subordinate range.
 *
 * - `target < S`:  `{0,1,T}, {T,0,1}, {T+1,T+1,S-T}`
 * - `target >= S`: `{0,1,S}, {T,0,1}`
 *
 * Throws `ERR_IDMAP_RANGE_TOO_SMALL` when `subidCount < 65536`. Upstream never calls this
 * with target 0; berth drops the empty first entry then, which still reverses the outer map.
 */
export function innerMap(target: number, subidCount: number): IdMapping[] {
  const t = parseOptions(IdSchema, target, 'target id', IdmapError);
  const s = parseOptions(IdSchema, subidCount, 'subid count', IdmapError);
  if (s < SUBID_RANGE_SIZE) {
    throw new IdmapError(
      'ERR_IDMAP_RANGE_TOO_SMALL',
      `subuid range size (${s}) must be at least ${SUBID_RANGE_SIZE}`,
      { hint: `ask an administrator for a range of at least ${SUBID_RANGE_SIZE} ids` },
    );
  }
  const maps: IdMapping[] =
    t < s
      ? [
          { containerID: 0, hostID: 1, size: t },
          { containerID: t, hostID: 0, size: 1 },
          { containerID: t + 1, hostID: t + 1, size: s - t },
        ]
      : [
          { containerID: 0, hostID: 1, size: s },
          { containerID: t, hostID: 0, size: 1 },
        ];
  return maps.filter((m) => m.size > 0);
}

/** The fallback without subordinate ids: the host id is 0 and nothing else is mapped. */
export function singleMap(hostId: number): IdMapping[] {
  const id = parseOptions(IdSchema, hostId, 'host id', IdmapError);
  return [{ containerID: 0, hostID: id, size: 1 }];
}

function isId(n: number): boolean {
  return Number.isInteger(n) && n >= 0;
}

/** The host (outer) id of container id `id` under `maps`, or `undefined` when unmapped. */
export function toHost(maps: IdMapping[], id: number): number | undefined {
  if (!isId(id)) return undefined;
  for (const m of maps) {
    if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  }
  return undefined;
}

/** The container id that host (outer) id `hostId` appears as under `maps`, or `undefined`. */
export function toContainer(maps: IdMapping[], hostId: number): number | undefined {
  if (!isId(hostId)) return undefined;
  for (const m of maps) {
    if (hostId >= m.hostID && hostId < m.hostID + m.size)
      return m.containerID + (hostId - m.hostID);
  }
  return undefined;
}
