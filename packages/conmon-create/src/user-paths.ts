import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConmonError } from './errors.js';

function reason(e: unknown, dir: string): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return `its directory "${dir}" does not exist`;
    case 'ENOTDIR':
      return `"${dir}" is not a directory`;
    case 'EROFS':
      return 'it is on a read-only file system';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return (e as Error).message;
  }
}

/**
 * Checks that this process may create or overwrite `file`, a path the user gave (`what` names
 * it: `pid file`, `log file`). Throws ERR_CONMON_PATH naming the file and why, so that a path
 * the user may not write is reported as theirs to fix before anything is created.
 */
export async function checkWritablePath(file: string, what: string): Promise<void> {
  const dir = path.dirname(file);
  const fail = (why: string, cause?: unknown) =>
    new ConmonError('ERR_CONMON_PATH', `cannot write the ${what} "${file}": ${why}`, {
      hint: `choose a ${what} in a directory you may write to`,
      cause,
    });
  const st = await stat(file).catch(() => undefined);
  if (st?.isDirectory()) throw fail('it is a directory');
  if (!st) {
    const parent = await stat(dir).catch((e: unknown) => {
      throw fail(reason(e, dir), e);
    });
    if (!parent.isDirectory()) throw fail(`"${dir}" is not a directory`);
  }
  try {
    await access(st ? file : dir, constants.W_OK | (st ? 0 : constants.X_OK));
  } catch (e) {
    throw fail(reason(e, dir), e);
  }
}
