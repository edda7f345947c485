export { DEFAULT_DETACH_KEYS, parseDetachKeys } from './detach-keys.js';
export type { Frame } from './frames.js';
export {
  FRAME_BUFFER_SIZE,
  inputMessages,
  MAX_INPUT_MESSAGE,
  parseFrame,
  resizeMessage,
  STREAM_STDERR,
  STREAM_STDIN,
  STREAM_STDOUT,
} from './frames.js';
