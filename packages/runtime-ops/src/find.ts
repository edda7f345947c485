import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseOptions } from '@berth-oci/errors';
import * as v from 'valibot';
import { RuntimeError } from './errors.js';

export const RUNTIME_NAMES = ['crun', 'runc'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

/** A resolved OCI runtime binary. */
export interface Runtime {
  name: RuntimeName;
  /** Absolute path of the binary. */
  path: string;
}

/** Where runtimes are looked for after `$PATH` (the system directories, as upstream's root search path). */
export const SYSTEM_SEARCH_PATH = [
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
];

export const FindRuntimeOptionsSchema = v.object({
  /** `crun`, `runc`, or a path to one of them. Overrides `BERTH_RUNTIME`. */
  runtime: v.optional(v.pipe(v.string(), v.nonEmpty())),
  /** Environment to read `BERTH_RUNTIME` and `PATH` from (default `process.env`). */
  env: v.optional(v.record(v.string(), v.optional(v.string()))),
});
export type FindRuntimeOptions = v.InferInput<typeof FindRuntimeOptionsSchema>;

async function isExecutable(file: string): Promise<boolean> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function searchDirs(env: Record<string, string | undefined>): string[] {
  const dirs = (env.PATH ?? '').split(':').filter((d) => d !== '' && path.isAbsolute(d));
  for (const d of SYSTEM_SEARCH_PATH) if (!dirs.includes(d)) dirs.push(d);
  return dirs;
}

/** Finds an executable by name on `$PATH` and the system directories. */
export async function which(
  name: string,
  env: Record<string, string | undefined> = process.env,
): Promise<string | undefined> {
  for (const dir of searchDirs(env)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function nameOf(file: string): RuntimeName | undefined {
  const base = path.basename(file);
  return RUNTIME_NAMES.find(
    (n) => base === n || base.startsWith(`${n}-`) || base.startsWith(`${n}.`),
  );
}

/**
 * Finds the OCI runtime: the `runtime` option, else `$BERTH_RUNTIME`, else `crun` (preferred),
 * else `runc`. A value with a `/` is a path; its basename must start with `crun` or `runc`.
 */
export async function findRuntime(options: FindRuntimeOptions = {}): Promise<Runtime> {
  const opts = parseOptions(FindRuntimeOptionsSchema, options, 'runtime options');
  const env = opts.env ?? process.env;
  const wanted = opts.runtime ?? (env.BERTH_RUNTIME || undefined);
  const hint = 'install one with `apt-get install crun` (or runc), or name one with --runtime';
  if (wanted === undefined) {
    for (const name of RUNTIME_NAMES) {
      const found = await which(name, env);
      if (found) return { name, path: found };
    }
    throw new RuntimeError(
      'ERR_RUNTIME_NOT_FOUND',
      'no OCI runtime found: neither crun nor runc is installed',
      { hint },
    );
  }
  if (wanted.includes('/')) {
    const file = path.resolve(wanted);
    const name = nameOf(file);
    if (!name) {
      throw new RuntimeError(
        'ERR_RUNTIME_UNKNOWN',
        `runtime "${wanted}" is neither crun nor runc`,
        {
          hint: 'berth drives crun and runc; name the binary crun or runc (or a path ending so)',
        },
      );
    }
    if (!(await isExecutable(file))) {
      throw new RuntimeError(
        'ERR_RUNTIME_NOT_FOUND',
        `runtime "${file}" does not exist or is not executable`,
        { hint },
      );
    }
    return { name, path: file };
  }
  const name = RUNTIME_NAMES.find((n) => n === wanted);
  if (!name) {
    throw new RuntimeError('ERR_RUNTIME_UNKNOWN', `unknown runtime "${wanted}"`, {
      hint: 'use --runtime crun, --runtime runc, or a path to one of them',
    });
  }
  const found = await which(name, env);
  if (!found)
    throw new RuntimeError('ERR_RUNTIME_NOT_FOUND', `runtime "${name}" was not found on PATH`, {
      hint,
    });
  return { name, path: found };
}
