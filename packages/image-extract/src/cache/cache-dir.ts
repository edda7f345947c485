import * as os from 'node:os';
import * as path from 'node:path';

/**
 * berth's cache directory: `$BERTH_CACHEDIR`, else `$XDG_CACHE_HOME/berth` (when absolute, as
 * the XDG spec asks), else `~/.cache/berth`.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = env.BERTH_CACHEDIR;
  if (own) return path.resolve(own);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'berth');
  const home = env.HOME || os.homedir();
  return path.join(home, '.cache', 'berth');
}
