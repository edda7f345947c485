export { main, VERSION } from './main.js';
export type { Io } from './render.js';
