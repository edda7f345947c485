// expect: no-reaching-into-another-package
import { brand } from '../../errors/src/berth-error.js';

export const f = brand;
