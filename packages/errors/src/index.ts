export type { BerthErrorOptions } from './berth-error.js';
export { BERTH_ERROR, BerthError, isBerthError, isInternalError } from './berth-error.js';
export type { BerthErrorClass, BerthErrorOf } from './define.js';
export { defineBerthError } from './define.js';
export type { InvalidOptionsErrorClass } from './parse-options.js';
export { parseOptions } from './parse-options.js';
export type { BerthErrorJSON } from './serialize.js';
export {
  BerthErrorJSONSchema,
  errorFromJSON,
  errorToJSON,
  INTERNAL_ERROR_CODE,
} from './serialize.js';
