export { ACTION_OPTIONS, splitAtImage, splitEnv } from './commands/action.js';
export { main, VERSION } from './main.js';
export type { Io } from './render.js';
export { BERTH_FAILURE, renderError } from './render.js';
