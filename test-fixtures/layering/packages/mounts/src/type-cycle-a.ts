// expect: none (the cycle back to this file is closed by an `import type` only)
import { makeB } from './type-cycle-b.js';

export interface A {
  b: ReturnType<typeof makeB>;
}
