import { debuglog } from 'node:util';

/** Tracing for `NODE_DEBUG=berth:image-extract`. */
export const debug = debuglog('berth:image-extract');
