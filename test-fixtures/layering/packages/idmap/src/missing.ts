// expect: no-unresolvable-relative
import { nothing } from './no-such-module.js';

export const f = nothing;
