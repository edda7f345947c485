/** Stream ids of conmon's attach socket frames (docs/runtime-protocols.md, "The attach socket"). */
export const STREAM_STDIN = 1;
export const STREAM_STDOUT = 2;
export const STREAM_STDERR = 3;

/** Largest message conmon reads from a client; longer ones are truncated by conmon. */
export const MAX_INPUT_MESSAGE = 32768;
/** Receive buffer for one output frame: 1 id byte + 8192 bytes. */
export const FRAME_BUFFER_SIZE = 8193;

export type Frame =
  | { stream: 'stdout' | 'stderr'; data: Buffer }
  | { stream: 'unknown'; id: number; data: Buffer };

/** Splits one SOCK_SEQPACKET message from conmon into its stream and payload. */
export function parseFrame(message: Buffer): Frame | undefined {
  if (message.length === 0) return undefined;
  const id = message[0] as number;
  const data = message.subarray(1);
  if (id === STREAM_STDOUT) return { stream: 'stdout', data };
  if (id === STREAM_STDERR) return { stream: 'stderr', data };
  return { stream: 'unknown', id, data };
}

/**
 * Cuts input into messages conmon takes whole (≤ 32 KiB each) and never empty: an empty
 * message means end of input to conmon.
 */
export function inputMessages(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += MAX_INPUT_MESSAGE)
    out.push(data.subarray(i, i + MAX_INPUT_MESSAGE));
  return out;
}

/** The line that asks conmon (through `<bundle>/ctl`) to resize the terminal. */
export function resizeMessage(rows: number, columns: number): string {
  if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows < 0 || columns < 0) {
    throw new RangeError(`invalid terminal size ${rows}x${columns}`);
  }
  return `1 ${rows} ${columns}\n`;
}
