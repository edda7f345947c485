/** Plain words for the filesystem errors a path the user gave can meet. */
const REASONS: Record<string, string> = {
  ENOENT: 'does not exist',
  EACCES: 'cannot be reached: permission denied',
  EPERM: 'cannot be reached: operation not permitted',
  ENOTDIR: 'does not exist (a part of it is not a directory)',
  ELOOP: 'cannot be reached: too many symbolic links',
  ENAMETOOLONG: 'is too long',
  EISDIR: 'is a directory',
};

/** What went wrong with a path, from the error of a filesystem call: `does not exist`, ... */
export function pathProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code && REASONS[code]) ?? `cannot be used (${code ?? String(error)})`;
}

/** Whether a filesystem error is about permissions (so the remedy is to fix them). */
export const isPermissionError = (error: unknown) =>
  ['EACCES', 'EPERM'].includes((error as NodeJS.ErrnoException | undefined)?.code ?? '');

/** The reason of a failed read, after a colon: `could not read X: permission denied`. */
export function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'no such file';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  if (code === 'EISDIR') return 'it is a directory';
  return code ?? String(error);
}
