import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parseOptions } from '@berth-oci/errors';
import * as v from 'valibot';
import { DEFAULT_DETACH_KEYS, DetachKeyMatcher, parseDetachKeys } from './detach-keys.js';
import { resizeMessage } from './frames.js';
import { AttachSocket } from './socket.js';
import { setTerminal, ttyFd } from './terminal.js';

type TtyIn = Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
type TtyOut = Writable & { isTTY?: boolean; rows?: number; columns?: number };

export const AttachOptionsSchema = v.strictObject({
  /** Absolute bundle path: the socket is `<bundle>/attach`, the resize FIFO `<bundle>/ctl`. */
  bundle: v.pipe(v.string(), v.startsWith('/')),
  /** Input for the container; none when absent. */
  stdin: v.optional(v.custom<TtyIn>((s) => typeof s === 'object' && s !== null)),
  /** Where the container's stdout (and, with a terminal, all its output) goes. */
  stdout: v.custom<TtyOut>((s) => typeof s === 'object' && s !== null),
  /** Where the container's stderr goes (without a terminal). */
  stderr: v.custom<TtyOut>((s) => typeof s === 'object' && s !== null),
  /** Detach sequence, docker/podman syntax (default `ctrl-p,ctrl-q`; `''` disables). */
  detachKeys: v.optional(v.string(), DEFAULT_DETACH_KEYS),
  /**
   * The container has a terminal: put `stdin` in raw mode (when it is a TTY) and forward the
   * size of `stdout` (when it is a TTY) through `<bundle>/ctl`. Default: whether stdin is a TTY.
   */
  tty: v.optional(v.boolean()),
  /** Called once connected, before any input is sent (e.g. to start the container). */
  onAttached: v.optional(v.custom<() => unknown>((f) => typeof f === 'function')),
});
export type AttachOptions = v.InferInput<typeof AttachOptionsSchema>;

/** How an attach session ended. */
export interface AttachResult {
  /** The user typed the detach keys: the container keeps running. */
  detached: boolean;
  /**
   * The socket ended with a reset (conmon closed it with input of ours unread): output still in
   * flight may be missing, and a caller that can should take the rest from the container's log.
   */
  reset?: boolean;
}

/**
 * Asks conmon to resize the container's terminal: writes `1 ROWS COLS` to `<bundle>/ctl`
 * (non-blocking; nothing happens when conmon is gone).
 */
export async function resizeTerminal(bundle: string, rows: number, columns: number): Promise<void> {
  const line = resizeMessage(rows, columns);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path.join(bundle, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
    await handle.write(line);
  } catch {
    // no reader (conmon exited) or no FIFO: nothing to resize
  } finally {
    await handle?.close();
  }
}

/**
 * Attaches to a container monitored by conmon: its output goes to `stdout`/`stderr` (split by
 * stream without a terminal), `stdin` goes to the container, the terminal is raw and resizes are
 * forwarded. Resolves when the container's output ends (it exited) or the detach keys are typed.
 * End of `stdin` is passed on as end of input, and output is still read to its end.
 */
export async function attach(options: AttachOptions): Promise<AttachResult> {
  const o = parseOptions(AttachOptionsSchema, options, 'attach options');
  const matcher = new DetachKeyMatcher(parseDetachKeys(o.detachKeys));
  const stdin = o.stdin;
  const tty = o.tty ?? Boolean(stdin?.isTTY);
  const raw = tty && stdin?.isTTY === true && typeof stdin.setRawMode === 'function';
  const cleanups: (() => void)[] = [];
  if (raw) {
    stdin.setRawMode?.(true);
    cleanups.push(() => stdin.setRawMode?.(false));
    const fd = ttyFd(stdin);
    const restore = fd === undefined ? undefined : setTerminal(fd, ['raw', '-echo']);
    if (restore) cleanups.push(restore);
  }
  // The container's terminal already turned its `\n` into `\r\n`: the host terminal must not
  // do it again (output post-processing off, also when only stdout is a terminal).
  const outFd = tty && o.stdout.isTTY ? ttyFd(o.stdout) : undefined;
  const restoreOut = outFd === undefined ? undefined : setTerminal(outFd, ['-opost']);
  if (restoreOut) cleanups.push(restoreOut);
  try {
    const socket = await AttachSocket.connect(o.bundle);
    cleanups.push(() => socket.close());
    socket.on('frame', (frame) => {
      if (frame.stream === 'stderr' && !tty) o.stderr.write(frame.data);
      else o.stdout.write(frame.data);
    });

    if (tty && o.stdout.isTTY) {
      const resize = () => {
        const { rows, columns } = o.stdout;
        if (rows && columns) void resizeTerminal(o.bundle, rows, columns);
      };
      resize();
      o.stdout.on('resize', resize);
      cleanups.push(() => o.stdout.off('resize', resize));
    }

    // Listen for the end from the start: a short-lived container can exit while `onAttached`
    // (starting it) is still awaited, and that end must not be missed.
    const ended = socket.closed.then(
      (): AttachResult => ({ detached: false, ...(socket.wasReset && { reset: true }) }),
    );
    if (o.onAttached) await o.onAttached();

    return await new Promise<AttachResult>((resolve) => {
      let done = false;
      const finish = (result: AttachResult) => {
        if (done) return;
        done = true;
        resolve(result);
      };
      void ended.then(finish);
      if (!stdin || socket.isClosed) return;
      const onData = (chunk: Buffer | string) => {
        const { forward, detached } = matcher.push(
          typeof chunk === 'string' ? Buffer.from(chunk) : chunk,
        );
        if (forward.length > 0) socket.write(forward);
        if (detached) finish({ detached: true });
      };
      const onEnd = () => {
        const held = matcher.flush();
        if (held.length > 0) socket.write(held);
        socket.sendEof();
      };
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdin.on('error', onEnd);
      cleanups.push(() => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.off('error', onEnd);
        stdin.pause();
      });
      stdin.resume();
    });
  } finally {
    for (const c of cleanups.reverse()) c();
  }
}
