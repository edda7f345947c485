import { EventEmitter } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import nus from 'node-unix-socket';
import { AttachError } from './errors.js';
import { type Frame, inputMessages, parseFrame } from './frames.js';

const O_PATH = 0o10000000;

/** The attach socket conmon binds in a bundle with `--full-attach`. */
export const attachSocketPath = (bundle: string) => path.join(bundle, 'attach');

/**
 * A client of conmon's attach socket (SOCK_SEQPACKET, which Node's `net` cannot open), on
 * node-unix-socket with the usage that proved reliable (docs/runtime-protocols.md, "The attach
 * socket"): never `end()` (it can abort the process), end of input as a zero-length message, an
 * `'error'` treated as end of output, `destroy()` once the peer ends.
 *
 * Events: `'frame'` (a `Frame` of output), `'close'` (output ended: the container exited, or
 * `close()` was called).
 */
export class AttachSocket extends EventEmitter<{ frame: [Frame]; close: [] }> {
  readonly #socket: InstanceType<typeof nus.SeqpacketSocket>;
  #closed = false;
  #reset = false;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;

  private constructor(socket: InstanceType<typeof nus.SeqpacketSocket>) {
    super();
    this.#socket = socket;
    this.closed = new Promise((resolve) => this.once('close', resolve));
    socket.on('data', (message: Buffer) => {
      const frame = parseFrame(message);
      if (frame) this.emit('frame', frame);
    });
    socket.on('end', () => this.#finish());
    socket.on('error', () => {
      // conmon's close with our input unread: the kernel reports ECONNRESET before the output
      // still queued here, which the socket library then drops
      if (!this.#closed) this.#reset = true;
      this.#finish();
    });
    socket.on('close', () => this.#finish());
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#socket.destroy();
    } catch {
      // already gone
    }
    this.emit('close');
  }

  /** True when output ended with an error (a reset) rather than a clean end: some may be lost. */
  get wasReset(): boolean {
    return this.#reset;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Connects to `<bundle>/attach` through `/proc/self/fd/<O_PATH fd of the bundle>/attach`, which
   * keeps the address under the 108-byte limit of socket paths.
   */
  static async connect(bundle: string): Promise<AttachSocket> {
    const socketPath = attachSocketPath(bundle);
    try {
      const st = await lstat(socketPath);
      if (!st.isSocket()) throw Object.assign(new Error('not a socket'), { code: 'ENOTSOCK' });
    } catch (cause) {
      throw new AttachError(
        'ERR_ATTACH_CONNECT',
        `cannot attach: "${socketPath}" ${(cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `is unusable (${(cause as Error).message})`}`,
        { hint: 'the container must have been created by conmon and still be running', cause },
      );
    }
    let fd: number;
    try {
      fd = openSync(bundle, O_PATH);
    } catch (cause) {
      throw new AttachError('ERR_ATTACH_CONNECT', `cannot open bundle "${bundle}"`, { cause });
    }
    const socket = new nus.SeqpacketSocket();
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        socket.once('error', onError);
        try {
          socket.connect(`/proc/self/fd/${fd}/attach`, () => {
            socket.off('error', onError);
            resolve();
          });
        } catch (e) {
          reject(e);
        }
      });
    } catch (cause) {
      try {
        socket.destroy();
      } catch {
        // nothing to close
      }
      throw new AttachError(
        'ERR_ATTACH_CONNECT',
        `cannot connect to "${socketPath}": ${(cause as Error).message || 'connection refused'}`,
        { hint: 'the container must be running, and its socket yours', cause },
      );
    } finally {
      closeSync(fd);
    }
    return new AttachSocket(socket);
  }

  /** Sends input to the container, cut into messages conmon takes whole (≤ 32 KiB). */
  write(data: Buffer): void {
    if (this.#closed) return;
    for (const message of inputMessages(data)) {
      try {
        this.#socket.write(message);
      } catch {
        this.#finish();
        return;
      }
    }
  }

  /** End of input: a zero-length message, which conmon reads as EOF on the container's stdin. */
  sendEof(): void {
    if (this.#closed) return;
    try {
      this.#socket.write(Buffer.alloc(0));
    } catch {
      this.#finish();
    }
  }

  /** Disconnects (detach); the container keeps running. */
  close(): void {
    this.#finish();
  }
}
