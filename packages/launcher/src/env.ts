import { jobVarNames } from './job-env.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Host variables that always reach the container (docs/singularity-compat.md). */
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

/**
 * Host variables never passed through, even with `--no-compat` (upstream's AlwaysOmitKeys);
 * variables with an `ENV_PREFIXES` prefix are not passed either.
 */
export const OMITTED_HOST_VARS = [
  'HOME',
  'PATH',
  'LD_LIBRARY_PATH',
  'SINGULARITY_SHELL',
  'SINGULARITY_APPNAME',
];

/**
 * The directory upstream always appends to LD_LIBRARY_PATH (where it binds host libraries);
 * kept so that images and scripts written for SingularityCE see the same value.
 */
export const CONTAINER_LIBS_DIR = '/.singularity.d/libs';

/**
 * Prefixes of host variables that set container variables (prefix stripped), lowest priority
 * first: `APPTAINERENV_` wins over `SINGULARITYENV_` (as in Apptainer), `BERTHENV_` over both.
 */
export const ENV_PREFIXES = ['SINGULARITYENV_', 'APPTAINERENV_', 'BERTHENV_'];

function split(entry: string): [string, string] {
  const i = entry.indexOf('=');
  return [entry.slice(0, i), entry.slice(i + 1)];
}

export interface EnvInput {
  imageEnv: string[];
  hostEnv: Record<string, string | undefined>;
  /** `--env` entries, highest priority. */
  userEnv: string[];
  /** Evaluated `--env-file`s in order: above the prefixed host variables, below `--env`. */
  envFiles?: Map<string, string>[];
  /**
   * Host variables passed through: `clean` (the default; TERM and the proxies only) or `all`
   * (`--no-compat` without `--cleanenv`: all but `OMITTED_HOST_VARS` and the prefixed ones).
   */
  hostPassthrough?: 'clean' | 'all';
  /** Pass the scheduler's and MPI's host variables too (job-env.ts; off with `--cleanenv`). */
  jobEnv?: boolean;
  /** HOME in the container; not forced when the image declares USER. */
  home: string;
  imageHasUser: boolean;
}

/**
 * The container environment, in upstream's order of priority (docs/singularity-compat.md): image `Env`,
 * overridden by the user's variables — `SINGULARITYENV_*`/`APPTAINERENV_*`/`BERTHENV_*` from the host, then
 * each `--env-file`, then `--env` — and HOME (unless the image declares USER); then host
 * variables not set otherwise (TERM and proxies, or all with `hostPassthrough: 'all'`); PATH
 * (user, else image, else the default) with APPEND_PATH and PREPEND_PATH; LD_LIBRARY_PATH
 * (user, else image) always holding `CONTAINER_LIBS_DIR`.
 */
export function buildEnv(input: EnvInput): string[] {
  const user = new Map<string, string>();
  for (const prefix of ENV_PREFIXES) {
    for (const [k, v] of Object.entries(input.hostEnv)) {
      if (v !== undefined && k.startsWith(prefix) && k.length > prefix.length)
        user.set(k.slice(prefix.length), v);
    }
  }
  for (const file of input.envFiles ?? []) for (const [k, v] of file) user.set(k, v);
  for (const e of input.userEnv) {
    const [k, v] = split(e);
    user.set(k, v);
  }
  if (!input.imageHasUser) user.set('HOME', input.home);

  const env = new Map<string, string>();
  for (const e of input.imageEnv) {
    if (!e.includes('=')) continue;
    const [k, v] = split(e);
    env.set(k, v);
  }
  const special = new Set(['PATH', 'APPEND_PATH', 'PREPEND_PATH', 'LD_LIBRARY_PATH']);
  for (const [k, v] of user) if (!special.has(k)) env.set(k, v);
  const passed =
    input.hostPassthrough === 'all'
      ? Object.keys(input.hostEnv).filter(
          (k) => !OMITTED_HOST_VARS.includes(k) && !ENV_PREFIXES.some((p) => k.startsWith(p)),
        )
      : [...PASSED_HOST_VARS, ...(input.jobEnv ? jobVarNames(input.hostEnv) : [])];
  for (const k of passed) {
    const v = input.hostEnv[k];
    if (v !== undefined && !env.has(k) && !special.has(k)) env.set(k, v);
  }
  let p = user.get('PATH') || env.get('PATH') || DEFAULT_PATH;
  const append = user.get('APPEND_PATH');
  const prepend = user.get('PREPEND_PATH');
  if (append) p = `${p.replace(/:$/, '')}:${append}`;
  if (prepend) p = `${prepend}:${p.replace(/^:/, '')}`;
  env.set('PATH', p);
  let ld = user.get('LD_LIBRARY_PATH') ?? env.get('LD_LIBRARY_PATH') ?? '';
  if (!ld.includes(CONTAINER_LIBS_DIR)) ld = `${ld}:${CONTAINER_LIBS_DIR}`.replace(/^:/, '');
  env.set('LD_LIBRARY_PATH', ld);
  return [...env].map(([k, v]) => `${k}=${v}`);
}
