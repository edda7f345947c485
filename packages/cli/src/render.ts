import { isBerthError, isInternalError } from '@berth-oci/errors';

/** Exit status of berth's own failures (as SingularityCE). */
export const BERTH_FAILURE = 255;

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
}

export const defaultIo = (): Io => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});

/** Prints an error as `berth: <message>` and `hint: ...`; with debug, the stack and causes. */
export function renderError(io: Io, error: unknown, debug: boolean): void {
  // a bug (not a berth error, or one marked internal, e.g. from the unpack worker) says so
  if (isBerthError(error) && !isInternalError(error)) {
    io.stderr.write(`berth: ${error.message}\n`);
    if (error.hint) io.stderr.write(`hint: ${error.hint}\n`);
  } else {
    io.stderr.write(`berth: internal error: ${(error as Error)?.message ?? String(error)}\n`);
    io.stderr.write('hint: this is a bug in berth; run again with --debug and report it\n');
  }
  if (debug) {
    let e: unknown = error;
    while (e) {
      io.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      e = (e as Error).cause;
      if (e) io.stderr.write('caused by: ');
    }
  }
}

export function warn(io: Io, message: string): void {
  io.stderr.write(`berth: warning: ${message}\n`);
}

/**
 * `--dry-run`'s account of where each setting came from, on stderr (stdout holds the
 * config.json): one line per value from the command line or a variable, one per directive of
 * the site configuration that is not a default (`site`); every other option has its default.
 */
export function renderSources(
  io: Io,
  sources: readonly { flag: string; from: string; value: string | boolean }[],
  site: readonly string[] = [],
): void {
  for (const s of sources) {
    const value = typeof s.value === 'boolean' ? '' : ` ${JSON.stringify(s.value)}`;
    const from = s.from === 'command line' ? 'the command line' : `$${s.from}`;
    io.stderr.write(`berth: setting: ${s.flag}${value} from ${from}\n`);
  }
  for (const d of site) io.stderr.write(`berth: setting: ${d} from the site configuration\n`);
  io.stderr.write('berth: setting: every other option has its default\n');
}
