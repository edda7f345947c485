export type { AttachOptions, AttachResult } from './attach.js';
export { AttachOptionsSchema, attach, resizeTerminal } from './attach.js';
export { DEFAULT_DETACH_KEYS, DetachKeyMatcher, parseDetachKeys } from './detach-keys.js';
export type { AttachErrorCode } from './errors.js';
export { AttachError } from './errors.js';
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
export { AttachSocket, attachSocketPath } from './socket.js';
