import { PassThrough } from 'node:stream';

/** An in-memory Io for main(): what it writes, and the environment it sees. */
export function captureIo(env: Record<string, string> = {}, tty = false) {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  return { io: { stdout, stderr, env }, out: () => out, err: () => err };
}
