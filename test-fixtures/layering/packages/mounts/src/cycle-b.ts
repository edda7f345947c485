// expect: none (a cycle is reported once, at its first module: cycle-a.ts)
import { a } from './cycle-a.js';

export const b = () => a();
