import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v from 'valibot';
import { debug } from '../debug.js';
import { ImageError, q } from '../errors.js';

/** A user name and password (or token) for a registry. */
export interface Credentials {
  username: string;
  password: string;
}

const AuthEntrySchema = v.looseObject({
  auth: v.optional(v.string()),
  username: v.optional(v.string()),
  password: v.optional(v.string()),
  identitytoken: v.optional(v.string()),
});

const AuthFileSchema = v.looseObject({
  auths: v.optional(v.record(v.string(), v.nullish(AuthEntrySchema))),
  credHelpers: v.optional(v.record(v.string(), v.string())),
  credsStore: v.optional(v.string()),
});

/** The auth files searched when none is given, in order (containers-auth.json(5), then Docker's). */
function defaultAuthFiles(env: Record<string, string | undefined>): string[] {
  const home = env.HOME || os.homedir();
  const out: string[] = [];
  if (env.REGISTRY_AUTH_FILE) out.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) out.push(path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  out.push(path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'containers', 'auth.json'));
  out.push(path.join(env.DOCKER_CONFIG || path.join(home, '.docker'), 'config.json'));
  return out;
}

/** The keys an auth file may use for `registry/repository`, most specific first. */
function authKeys(registry: string, repository: string): string[] {
  const keys: string[] = [];
  const parts = repository.split('/');
  for (let i = parts.length; i >= 1; i--) keys.push(`${registry}/${parts.slice(0, i).join('/')}`);
  keys.push(registry);
  if (registry === 'docker.io') {
    keys.push('index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/');
  }
  return keys;
}

function normaliseKey(key: string): string {
  // Docker writes "https://host/v1/" style keys; containers/image writes bare hosts.
  return key
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '')
    .replace(/\/v[12]$/, '');
}

function decodeEntry(
  entry: v.InferOutput<typeof AuthEntrySchema>,
  file: string,
  key: string,
): Credentials | undefined {
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon <= 0) {
      throw new ImageError(
        'ERR_IMAGE_AUTH',
        `the auth entry for ${q(key)} in ${q(file)} is not base64 of "user:password"`,
        {
          hint: 'log in again (podman login / docker login) or fix the file',
        },
      );
    }
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined)
    return { username: entry.username, password: entry.password };
  return undefined;
}

/** Reads one auth file; undefined when it does not exist (and `required` is false). */
async function readAuthFile(
  file: string,
  required: boolean,
): Promise<v.InferOutput<typeof AuthFileSchema> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if (!required && (cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (!required && (cause as NodeJS.ErrnoException).code === 'EACCES') {
      debug('auth file %s is not readable, skipped', file);
      return undefined;
    }
    throw new ImageError('ERR_IMAGE_AUTH', `cannot read the auth file ${q(file)}`, {
      hint: 'check the path given with --authfile',
      cause,
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new ImageError('ERR_IMAGE_AUTH', `the auth file ${q(file)} is not valid JSON`, {
      hint: 'fix or remove the file',
      cause,
    });
  }
  const r = v.safeParse(AuthFileSchema, doc);
  if (!r.success) {
    throw new ImageError(
      'ERR_IMAGE_AUTH',
      `the auth file ${q(file)} is malformed: ${v.summarize(r.issues)}`,
      {
        hint: 'an auth file looks like {"auths": {"HOST": {"auth": "base64(user:password)"}}}',
      },
    );
  }
  return r.output;
}

/**
 * Credentials for `registry/repository`: from `authFile` when given (it must exist), else from
 * the first of `defaultAuthFiles(env)` that has an entry. Entries are matched most specific
 * first (`host/ns/repo`, `host/ns`, `host`). Credential helpers are not run.
 */
export async function findCredentials(
  registry: string,
  repository: string,
  options: { authFile?: string | undefined; env: Record<string, string | undefined> },
): Promise<Credentials | undefined> {
  const files = options.authFile ? [options.authFile] : defaultAuthFiles(options.env);
  const keys = authKeys(registry, repository);
  for (const file of files) {
    const doc = await readAuthFile(file, options.authFile !== undefined);
    if (!doc) continue;
    const auths = new Map<string, v.InferOutput<typeof AuthEntrySchema>>();
    for (const [k, e] of Object.entries(doc.auths ?? {})) if (e) auths.set(normaliseKey(k), e);
    for (const key of keys) {
      const entry = auths.get(normaliseKey(key));
      if (!entry) continue;
      const creds = decodeEntry(entry, file, key);
      if (creds) {
        debug('credentials for %s from %s (%s)', registry, file, key);
        return creds;
      }
    }
    const helper = doc.credHelpers?.[registry] ?? doc.credsStore;
    if (helper)
      debug('auth file %s names credential helper %s, which berth does not run', file, helper);
  }
  return undefined;
}
