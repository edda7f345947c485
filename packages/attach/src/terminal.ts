import { spawnSync } from 'node:child_process';

type Fd = { fd?: unknown };

/** The descriptor behind a TTY stream, when it has one. */
export function ttyFd(stream: unknown): number | undefined {
  const fd = (stream as Fd | undefined)?.fd;
  return typeof fd === 'number' ? fd : undefined;
}

/** Runs `stty ARGS` on the terminal open at `fd`; its output, or undefined when it failed. */
function stty(fd: number, args: string[]): string | undefined {
  try {
    const r = spawnSync('stty', args, {
      stdio: [fd, 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: 5000,
    });
    return r.status === 0 ? r.stdout.trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Applies `settings` (stty syntax, e.g. `raw -echo` or `-opost`) to the terminal open at `fd`
 * and returns what puts it back as it was; undefined when the terminal could not be changed
 * (no `stty`, not a terminal), which leaves it as it is.
 *
 * Node's own raw mode (libuv) keeps output post-processing on (`\n` becomes `\r\n`), so a
 * container terminal's `\r\n` would reach the user as `\r\r\n`; relaying a container's terminal
 * needs the host terminal fully raw, as `cfmakeraw` (and so podman) makes it.
 */
export function setTerminal(fd: number, settings: string[]): (() => void) | undefined {
  const saved = stty(fd, ['-g']);
  if (saved === undefined || stty(fd, settings) === undefined) return undefined;
  return () => {
    stty(fd, [saved]);
  };
}
