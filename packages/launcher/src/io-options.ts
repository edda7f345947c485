import { isatty } from 'node:tty';
import { type Stdio, StdioSchema } from '@berth-oci/runtime-ops';
import * as v from 'valibot';

export type { Stdio };
export { StdioSchema };

/** An `AbortSignal` (checked by shape: signals from other realms pass too). */
export const AbortSignalSchema = v.custom<AbortSignal>(
  (x) =>
    typeof x === 'object' &&
    x !== null &&
    typeof (x as AbortSignal).aborted === 'boolean' &&
    typeof (x as AbortSignal).addEventListener === 'function',
  'signal must be an AbortSignal',
);

type Target = Exclude<Stdio, string>[number];

const streamOf = (stdio: Stdio | undefined, n: 0 | 1 | 2): Target =>
  stdio === undefined ? 'inherit' : typeof stdio === 'string' ? stdio : stdio[n];

const processStream = [process.stdin, process.stdout, process.stderr] as const;

/** Whether the container's stream `n` (0 stdin, 1 stdout, 2 stderr) is a terminal. */
export function isTerminal(stdio: Stdio | undefined, n: 0 | 1 | 2): boolean {
  const t = streamOf(stdio, n);
  if (t === 'ignore') return false;
  if (t === 'inherit') return Boolean(processStream[n].isTTY);
  if (typeof t === 'number') return isatty(t);
  return (t as { isTTY?: boolean }).isTTY === true || isatty(t.fd);
}

/**
 * The size of the terminal the container's output goes to (its stdout, else its stderr), when
 * that is a terminal stream that knows it.
 */
export function terminalSize(
  stdio: Stdio | undefined,
): { height: number; width: number } | undefined {
  for (const n of [1, 2] as const) {
    const t = streamOf(stdio, n);
    const stream = (t === 'inherit' ? processStream[n] : t) as {
      isTTY?: boolean;
      rows?: number;
      columns?: number;
    };
    if (typeof stream !== 'object') continue;
    if (stream.isTTY && (stream.rows ?? 0) > 0 && (stream.columns ?? 0) > 0)
      return { height: stream.rows as number, width: stream.columns as number };
  }
  return undefined;
}
