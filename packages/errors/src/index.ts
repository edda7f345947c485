export type { BerthErrorOptions } from './berth-error.js';
export { BERTH_ERROR, BerthError, isBerthError, parseOptions } from './berth-error.js';
