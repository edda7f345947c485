export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Host variables that always reach the container (reference B.5.4 step 4). */
export const PASSED_HOST_VARS = [
  'TERM',
  'http_proxy',
  'HTTP_PROXY',
  'https_proxy',
  'HTTPS_PROXY',
  'no_proxy',
  'NO_PROXY',
  'all_proxy',
  'ALL_PROXY',
  'ftp_proxy',
  'FTP_PROXY',
];

/** Prefixes of host variables that set container variables (prefix stripped). */
export const ENV_PREFIXES = ['SINGULARITYENV_', 'BERTHENV_'];

function split(entry: string): [string, string] {
  const i = entry.indexOf('=');
  return [entry.slice(0, i), entry.slice(i + 1)];
}

export interface EnvInput {
  imageEnv: string[];
  hostEnv: Record<string, string | undefined>;
  /** `--env` entries, highest priority. */
  userEnv: string[];
  /** HOME in the container; not forced when the image declares USER. */
  home: string;
  imageHasUser: boolean;
}

/**
 * The container environment, in upstream's order of priority: image `Env`, then
 * `SINGULARITYENV_*`/`BERTHENV_*` from the host, then `--env`; HOME; TERM and proxy variables
 * from the host when not set otherwise; PATH (user, else image, else the default) with
 * APPEND_PATH and PREPEND_PATH applied.
 */
export function buildEnv(input: EnvInput): string[] {
  const user = new Map<string, string>();
  for (const prefix of ENV_PREFIXES) {
    for (const [k, v] of Object.entries(input.hostEnv)) {
      if (v !== undefined && k.startsWith(prefix) && k.length > prefix.length)
        user.set(k.slice(prefix.length), v);
    }
  }
  for (const e of input.userEnv) {
    const [k, v] = split(e);
    user.set(k, v);
  }
  if (!input.imageHasUser) user.set('HOME', input.home);

  const env = new Map<string, string>();
  for (const e of input.imageEnv) {
    const [k, v] = split(e);
    env.set(k, v);
  }
  const special = new Set(['PATH', 'APPEND_PATH', 'PREPEND_PATH']);
  for (const [k, v] of user) if (!special.has(k)) env.set(k, v);
  for (const k of PASSED_HOST_VARS) {
    const v = input.hostEnv[k];
    if (v !== undefined && !env.has(k)) env.set(k, v);
  }
  let p = user.get('PATH') ?? env.get('PATH') ?? DEFAULT_PATH;
  const append = user.get('APPEND_PATH');
  const prepend = user.get('PREPEND_PATH');
  if (append) p = `${p.replace(/:$/, '')}:${append}`;
  if (prepend) p = `${prepend}:${p.replace(/^:/, '')}`;
  env.set('PATH', p);
  return [...env].map(([k, v]) => `${k}=${v}`);
}
