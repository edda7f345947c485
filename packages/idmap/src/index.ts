export type { IdmapErrorCode } from './errors.js';
export { IdmapError } from './errors.js';
export { innerMap, outerMap, singleMap, toContainer, toHost } from './maps.js';
export { parseProcIdMap, readProcIdMap } from './proc.js';
export type { ReadSubidRangeOptions } from './subid.js';
export {
  parseSubid,
  ReadSubidRangeOptionsSchema,
  readSubidRange,
  SUBID_RANGE_SIZE,
  selectSubidRange,
} from './subid.js';
export type { IdMapping, SubidEntry, SubidRange, SubidUser } from './types.js';
