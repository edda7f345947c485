// expect: none
import type { A } from './type-cycle-a.js';

export const makeB = (a?: A) => ({ a });
