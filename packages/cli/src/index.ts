export { ACTION_OPTIONS, launchOptions, splitAtImage, splitEnv } from './commands/action.js';
export { fastMain, parseActionArgv } from './fast-path.js';
export { main, VERSION } from './main.js';
export type { Io } from './render.js';
export { BERTH_FAILURE, renderError } from './render.js';
