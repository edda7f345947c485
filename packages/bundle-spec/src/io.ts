import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as v from 'valibot';
import { BundleSpecError } from './errors.js';
import { type Spec, SpecSchema } from './schemas.js';

/** The name of the spec file inside a bundle. */
export const CONFIG_FILE = 'config.json';

function check(spec: unknown, what: string): Spec {
  const result = v.safeParse(SpecSchema, spec);
  if (result.success) return result.output;
  throw new BundleSpecError('ERR_SPEC_INVALID', `${what}: ${v.summarize(result.issues)}`, {
    hint: 'the spec must match the OCI runtime spec; fix the fields listed',
  });
}

/** Checks `spec` against `SpecSchema`; throws `ERR_SPEC_INVALID` with valibot's summary. */
export function validateSpec(spec: unknown): Spec {
  return check(spec, 'invalid runtime spec');
}

/**
 * Validates `spec` and writes `<bundleDir>/config.json` atomically: a temporary file in the
 * same directory (mode 0600), flushed, then renamed over. Returns the file's absolute path.
 */
export async function writeSpec(bundleDir: string, spec: Spec): Promise<string> {
  const valid = validateSpec(spec);
  const dir = resolve(bundleDir);
  const file = join(dir, CONFIG_FILE);
  const temp = join(dir, `.${CONFIG_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const text = `${JSON.stringify(valid, null, 2)}\n`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (cause) {
    await unlink(temp).catch(() => {});
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new BundleSpecError('ERR_SPEC_WRITE', `cannot write bundle config "${file}"`, {
      hint: missing
        ? `the bundle directory "${dir}" does not exist; create it first`
        : `check that "${dir}" is a writable directory`,
      cause,
    });
  }
  return file;
}

/**
 * Reads and validates `<bundleDir>/config.json`. Throws `ERR_SPEC_NOT_FOUND` when it does
 * not exist, `ERR_SPEC_INVALID` for bad JSON or a bad spec, `ERR_SPEC_READ` otherwise.
 */
export async function readSpec(bundleDir: string): Promise<Spec> {
  const file = join(resolve(bundleDir), CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BundleSpecError('ERR_SPEC_NOT_FOUND', `bundle config "${file}" does not exist`, {
        hint: 'check the bundle directory; writeSpec() creates config.json',
        cause,
      });
    }
    throw new BundleSpecError('ERR_SPEC_READ', `cannot read bundle config "${file}"`, {
      hint: `check that "${file}" is a readable file`,
      cause,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new BundleSpecError(
      'ERR_SPEC_INVALID',
      `bundle config "${file}" is not valid json: ${(cause as Error).message}`,
      { hint: 'rewrite the file with writeSpec()', cause },
    );
  }
  return check(json, `bundle config "${file}" is not a valid runtime spec`);
}
