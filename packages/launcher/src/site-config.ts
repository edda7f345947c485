/**
 * The site configuration: /etc/berth/berth.conf, in singularity.conf's `key = value` syntax,
 * with the directives SingularityCE applies in OCI mode (docs/singularity-compat.md). Its
 * administrators set policy there that every launch on the host follows: binds added to every
 * container, default mounts left out, generated /etc files left out, user binds refused.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isBerthError } from '@berth-oci/errors';
import { parseBindSpecs } from '@berth-oci/mounts';
import * as v from 'valibot';
import { LaunchError } from './errors.js';
import { isPermissionError, pathProblem } from './fs-errors.js';

/** Where the site configuration is read from. */
export const SITE_CONFIG_PATH = '/etc/berth/berth.conf';

const YesNo = v.optional(v.boolean(), true);

/** The parsed site configuration; every directive left out has its default. */
export const SiteConfigSchema = v.strictObject({
  /** `bind path = SRC[:DST[:ro]]`, repeatable: binds added to every container. */
  bindPaths: v.optional(v.array(v.string()), []),
  /** `mount home`, `mount tmp`, `mount proc`, `mount sys` (`no`: left out, as `--no-mount`). */
  mountHome: YesNo,
  mountTmp: YesNo,
  mountProc: YesNo,
  mountSys: YesNo,
  /** `mount dev`: `no` is refused (a container needs /dev); `minimal` never binds the host's. */
  mountDev: v.optional(v.picklist(['yes', 'no', 'minimal']), 'yes'),
  /** `mount devpts`: `no` is refused (a container needs /dev/pts). */
  mountDevpts: YesNo,
  /** `config passwd`, `config group`: generate /etc/passwd and /etc/group (the user added). */
  configPasswd: YesNo,
  configGroup: YesNo,
  /** `config resolv_conf`: bind the host's (or `--dns`'s) /etc/resolv.conf. */
  configResolvConf: YesNo,
  /** `user bind control`: `no` refuses `--bind`, `--mount` and `--home SRC:DST`. */
  userBindControl: YesNo,
  /** The file it was read from, for messages. */
  file: v.optional(v.string()),
  /** The line of each directive in `file` (the last one of a repeated directive). */
  lines: v.optional(v.record(v.string(), v.number())),
});
export type SiteConfig = v.InferOutput<typeof SiteConfigSchema>;
export type SiteConfigInput = v.InferInput<typeof SiteConfigSchema>;

/** The configuration of a host without a site file. */
export const DEFAULT_SITE_CONFIG: SiteConfig = v.parse(SiteConfigSchema, {});

type Key = Exclude<keyof SiteConfig, 'file' | 'lines'>;

/** Each directive, as written in the file, and the key it sets. */
export const SITE_DIRECTIVES: Readonly<Record<string, Key>> = {
  'bind path': 'bindPaths',
  'mount home': 'mountHome',
  'mount tmp': 'mountTmp',
  'mount proc': 'mountProc',
  'mount sys': 'mountSys',
  'mount dev': 'mountDev',
  'mount devpts': 'mountDevpts',
  'config passwd': 'configPasswd',
  'config group': 'configGroup',
  'config resolv_conf': 'configResolvConf',
  'user bind control': 'userBindControl',
};

/** The directive that sets `key`, for messages (`mount dev`). */
export const directiveOf = (key: Key): string =>
  Object.entries(SITE_DIRECTIVES).find(([, k]) => k === key)?.[0] ?? key;

/** Where a directive was set, for messages: `"mount dev = no" in FILE line 3`. */
export function siteSetting(site: SiteConfig, key: Key, value: string): string {
  const line = site.lines?.[key];
  const where = site.file
    ? ` in ${site.file}${line !== undefined ? ` line ${line}` : ''}`
    : ' in the site configuration';
  return `"${directiveOf(key)} = ${value}"${where}`;
}

/**
 * The directives of a configuration that differ from the defaults, each with where it was set:
 * `mount home = no (/etc/berth/berth.conf line 5)`, for `--dry-run`.
 */
export function describeSiteConfig(site: SiteConfig): string[] {
  const where = (key: Key) => {
    const line = key === 'bindPaths' ? undefined : site.lines?.[key];
    return ` (${site.file ?? 'the site configuration'}${line !== undefined ? ` line ${line}` : ''})`;
  };
  const out = site.bindPaths.map((b) => `bind path = ${b}${where('bindPaths')}`);
  for (const [name, key] of Object.entries(SITE_DIRECTIVES)) {
    if (key === 'bindPaths' || site[key] === DEFAULT_SITE_CONFIG[key]) continue;
    const value = site[key];
    out.push(`${name} = ${value === true ? 'yes' : value === false ? 'no' : value}${where(key)}`);
  }
  return out;
}

/**
 * Parses the text of a site configuration. Comments (`#` first on a line) and blank lines are
 * skipped; keys are case-insensitive and their inner spaces count as one; `yes`/`no` values
 * are case-insensitive. A line that is not `key = value`, a bad value or a bad `bind path` is
 * an `ERR_LAUNCH_SITE_CONFIG` naming `file` and the line; an unknown directive is a warning
 * (once per directive), as is a directive given twice (the last one counts).
 */
export function parseSiteConfig(
  text: string,
  file = SITE_CONFIG_PATH,
): { config: SiteConfig; warnings: string[] } {
  const out: Record<string, unknown> = { bindPaths: [] };
  const lines: Record<string, number> = {};
  const warnings: string[] = [];
  const unknown = new Set<string>();
  const bad = (n: number, message: string, hint: string) =>
    new LaunchError('ERR_LAUNCH_SITE_CONFIG', `${file} line ${n}: ${message}`, { hint });
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0)
      throw bad(
        n,
        `expected "directive = value", got ${JSON.stringify(line)}`,
        'write each directive as `key = value` (e.g. `mount home = no`), or comment it out with #',
      );
    const name = line.slice(0, eq).trim().toLowerCase().replace(/\s+/g, ' ');
    const value = line.slice(eq + 1).trim();
    const key = SITE_DIRECTIVES[name];
    if (key === undefined) {
      if (!unknown.has(name))
        warnings.push(`${file} line ${n}: unknown directive "${name}", ignoring it`);
      unknown.add(name);
      return;
    }
    if (key === 'bindPaths') {
      checkBindPath(value, (m, h) => bad(n, m, h));
      (out.bindPaths as string[]).push(value);
    } else {
      const v = value.toLowerCase();
      const allowed = key === 'mountDev' ? ['yes', 'no', 'minimal'] : ['yes', 'no'];
      if (!allowed.includes(v))
        throw bad(
          n,
          `"${name}" must be ${key === 'mountDev' ? 'yes, no or minimal' : 'yes or no'}, got ${JSON.stringify(value)}`,
          `write \`${name} = ${allowed[0]}\` or \`${name} = no\``,
        );
      if (lines[key] !== undefined)
        warnings.push(
          `${file} line ${n}: "${name}" is also set on line ${lines[key]}; line ${n} counts`,
        );
      out[key] = key === 'mountDev' ? v : v === 'yes';
    }
    lines[key] = n;
  });
  return {
    config: v.parse(SiteConfigSchema, { ...out, file, lines }),
    warnings,
  };
}

/** A `bind path` value: `SRC[:DST[:ro|rw]]` with an absolute SRC, one bind per directive. */
function checkBindPath(value: string, bad: (message: string, hint: string) => LaunchError): void {
  const hint = 'write `bind path = /host/path[:/container/path[:ro]]`, one bind per line';
  if (!value.trim().startsWith('/'))
    throw bad(`"bind path" source must be an absolute path, got ${JSON.stringify(value)}`, hint);
  let binds: ReturnType<typeof parseBindSpecs>;
  try {
    binds = parseBindSpecs([value]);
  } catch (e) {
    throw bad(`bad "bind path": ${isBerthError(e) ? e.message : String(e)}`, hint);
  }
  if (binds.length !== 1)
    throw bad(`"bind path" must name one bind, got ${JSON.stringify(value)}`, hint);
}

/**
 * Refuses a site file (or its directory) that someone other than root owns or may write: the
 * policy it sets would not be the administrators'.
 */
async function checkOwnership(file: string): Promise<void> {
  const real = await realpath(file);
  for (const p of [real, path.dirname(real)]) {
    const st = await stat(p);
    const problem =
      st.uid !== 0
        ? `is owned by uid ${st.uid}, not root`
        : (st.mode & 0o022) !== 0
          ? `is writable by ${(st.mode & 0o020) !== 0 ? 'its group' : 'others'} (mode ${(st.mode & 0o777).toString(8).padStart(3, '0')})`
          : undefined;
    if (problem === undefined) continue;
    const what = p === real ? `site configuration ${file}` : `the directory ${p} of ${file}`;
    throw new LaunchError(
      'ERR_LAUNCH_SITE_CONFIG',
      `${what} ${problem}; refusing to launch with it`,
      {
        hint: `its administrators must fix it: chown root:root ${p} && chmod go-w ${p}`,
      },
    );
  }
}

/**
 * Reads and checks a site configuration file: missing, it is the defaults
 * (`DEFAULT_SITE_CONFIG`); otherwise it must be owned by root and not writable by group or
 * others, as its directory (`ERR_LAUNCH_SITE_CONFIG`).
 */
export async function readSiteConfig(
  file = SITE_CONFIG_PATH,
): Promise<{ config: SiteConfig; warnings: string[] }> {
  let text: string;
  try {
    await checkOwnership(file);
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT')
      return { config: DEFAULT_SITE_CONFIG, warnings: [] };
    if (isBerthError(cause)) throw cause;
    throw new LaunchError(
      'ERR_LAUNCH_SITE_CONFIG',
      `site configuration ${file} ${pathProblem(cause)}`,
      {
        hint: isPermissionError(cause)
          ? 'its administrators must make it readable: chmod a+r FILE'
          : 'check the file, or ask the administrators',
        cause,
      },
    );
  }
  return parseSiteConfig(text, file);
}

/** `launch()`'s `siteConfig` option: another file (root only), or a parsed configuration. */
export const SiteConfigOptionSchema = v.union([
  v.pipe(v.string(), v.nonEmpty('must not be empty')),
  SiteConfigSchema,
]);

/**
 * The site configuration of a launch, from its `siteConfig` option (a path, or a parsed
 * configuration; default `SITE_CONFIG_PATH`), with the `bind path` entries whose source does
 * not exist left out (each a warning). A path other than the default is refused unless `uid` is
 * 0: the site's policy is not the user's to replace.
 */
export async function loadSiteConfig(
  option: string | SiteConfigInput | undefined,
  uid: number,
): Promise<{ config: SiteConfig; warnings: string[] }> {
  let loaded: { config: SiteConfig; warnings: string[] };
  if (typeof option === 'object') {
    loaded = { config: v.parse(SiteConfigSchema, option), warnings: [] };
  } else {
    const file = option ?? SITE_CONFIG_PATH;
    if (path.resolve(file) !== SITE_CONFIG_PATH && uid !== 0)
      throw new LaunchError(
        'ERR_LAUNCH_SITE_CONFIG',
        `only root may use another site configuration than ${SITE_CONFIG_PATH} (--site-config ${file})`,
        { hint: `drop --site-config (and BERTH_SITE_CONFIG); ${SITE_CONFIG_PATH} applies` },
      );
    loaded = await readSiteConfig(path.resolve(file));
  }
  const { config, warnings } = loaded;
  const bindPaths: string[] = [];
  for (const b of config.bindPaths) {
    const source = parseBindSpecs([b])[0]?.source ?? b;
    try {
      await stat(source);
      bindPaths.push(b);
    } catch (cause) {
      warnings.push(
        `site bind path "${b}"${config.file ? ` (${config.file})` : ''}: source ${source} ${pathProblem(cause)}, skipping it`,
      );
    }
  }
  return { config: { ...config, bindPaths }, warnings: [...warnings] };
}
