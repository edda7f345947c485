import { isAbsolute, join, resolve } from 'node:path';
import { parseOptions } from '@berth-oci/errors';
import * as v from 'valibot';
import type { BindSpec } from './binds.js';
import { MountsError } from './errors.js';
import { cleanContainerPath } from './paths.js';

const Strings = v.array(v.string());

/**
 * Splits one CSV record set the way Go's encoding/csv reads it (upstream parses `--mount`
 * with it): fields separated by commas, records by newlines, `"..."` quoting with `""` for a
 * quote. Throws on a bare or unterminated quote.
 */
export function splitCsv(text: string): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let i = 0;
  let fieldStart = true;
  const bad = (why: string) =>
    new MountsError('ERR_MOUNTS_MOUNT_SPEC', `cannot parse mount ${JSON.stringify(text)}: ${why}`, {
      hint: 'quote a field holding a comma or a quote: "src=/a,b",dst=/x',
    });
  while (i < text.length) {
    const c = text[i] as string;
    if (fieldStart && c === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw bad('a quoted field is not closed');
        const q = text[i] as string;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += q;
        i++;
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r')
        throw bad('extraneous text after a quoted field');
      fieldStart = false;
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      fieldStart = true;
      i++;
      continue;
    }
    if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      if (!(fields.length === 1 && fields[0] === '')) records.push(fields);
      fields = [];
      field = '';
      fieldStart = true;
      i++;
      continue;
    }
    if (c === '"') throw bad('a bare " in a field that is not quoted');
    field += c;
    fieldStart = false;
    i++;
  }
  fields.push(field);
  if (!(fields.length === 1 && fields[0] === '')) records.push(fields);
  return records;
}

function destinationOf(wanted: string, what: string): string {
  const destination = cleanContainerPath(wanted);
  if (destination === undefined || destination === '/') {
    throw new MountsError(
      'ERR_MOUNTS_BIND_DESTINATION',
      destination === '/'
        ? `${what} destination ${JSON.stringify(wanted)} would cover the container root`
        : wanted.startsWith('/')
          ? `${what} destination ${JSON.stringify(wanted)} climbs above /`
          : `${what} destination ${JSON.stringify(wanted)} must be an absolute path`,
      { hint: 'give an absolute path below / inside the container' },
    );
  }
  return destination;
}

/**
 * Parses `--mount` values (docs/singularity-compat.md, "Mounts", step 8): each
 * value is CSV (one mount per line), fields `key[=value]`: `type` (only `bind`, the default),
 * `source`/`src`, `destination`/`dst`/`target`, `ro`/`readonly`. `image-src` and `id` are
 * image binds (`ERR_MOUNTS_BIND_UNSUPPORTED`); `bind-propagation` and unknown keys are
 * refused (`ERR_MOUNTS_MOUNT_SPEC`). Source and destination are required, and a value naming
 * no mount at all (`''`, blank lines only) is an error.
 */
export function parseMountSpecs(values: string[]): BindSpec[] {
  const list = parseOptions(Strings, values, 'mount values', MountsError);
  const out: BindSpec[] = [];
  for (const value of list) {
    const records = splitCsv(value);
    if (records.length === 0) {
      // upstream's CSV reader yields nothing for '' and adds no mount; like `-B ''`, berth
      // refuses it, so that an empty variable in `--mount "$SPEC"` is not silently dropped
      throw new MountsError(
        'ERR_MOUNTS_MOUNT_SPEC',
        `mount specification ${JSON.stringify(value)} names no mount`,
        { hint: 'use --mount type=bind,src=HOST,dst=CONTAINER[,ro]' },
      );
    }
    for (const record of records) {
      let source = '';
      let destination = '';
      let readonly = false;
      const spec = JSON.stringify(record.join(','));
      const fail = (message: string, hint = 'use --mount type=bind,src=HOST,dst=CONTAINER[,ro]') =>
        new MountsError('ERR_MOUNTS_MOUNT_SPEC', message, { hint });
      for (const f of record) {
        const eq = f.indexOf('=');
        const key = eq < 0 ? f : f.slice(0, eq);
        const val = eq < 0 ? '' : f.slice(eq + 1);
        switch (key) {
          case 'type':
            if (val !== 'bind')
              throw fail(`unsupported mount type ${JSON.stringify(val)}, only 'bind' is supported`);
            break;
          case 'source':
          case 'src':
            if (val === '') throw fail(`mount source cannot be empty in ${spec}`);
            source = val;
            break;
          case 'destination':
          case 'dst':
          case 'target':
            if (val === '') throw fail(`mount destination cannot be empty in ${spec}`);
            destination = val;
            break;
          case 'ro':
          case 'readonly':
            readonly = true;
            break;
          case 'image-src':
          case 'id':
            throw new MountsError(
              'ERR_MOUNTS_BIND_UNSUPPORTED',
              `mount option "${key}" is not supported: berth cannot bind from inside an image`,
              { hint: 'bind a host directory instead' },
            );
          case 'bind-propagation':
            throw fail(
              'bind-propagation is not supported for individual mounts',
              'remove bind-propagation=...',
            );
          default:
            throw fail(`invalid key ${JSON.stringify(key)} in mount specification ${spec}`);
        }
      }
      if (source === '' || destination === '')
        throw fail(`mount ${spec} must specify a source and a destination`);
      out.push({ source, destination: destinationOf(destination, 'mount'), readonly });
    }
  }
  return out;
}

/** A parsed `--home`: a tmpfs at `destination`, or a bind of the host `source` there. */
export interface HomeSpec {
  source?: string;
  destination: string;
}

/**
 * Parses `--home` (upstream's `parseHomeDir`): `DST` is a tmpfs home at DST, `SRC:DST` binds
 * the host SRC there (SRC is made absolute against `cwd`). Throws `ERR_MOUNTS_HOME` for more
 * than one `:` or an empty or relative destination.
 */
export function parseHomeSpec(value: string, cwd: string = process.cwd()): HomeSpec {
  const text = parseOptions(v.string(), value, '--home value', MountsError);
  const parts = text.split(':');
  if (parts.length > 2) {
    throw new MountsError(
      'ERR_MOUNTS_HOME',
      `home argument ${JSON.stringify(text)} has incorrect number of elements`,
      { hint: 'use --home DST or --home SRC:DST' },
    );
  }
  const dest = parts.length === 2 ? (parts[1] as string) : (parts[0] as string);
  if (dest === '') {
    throw new MountsError('ERR_MOUNTS_HOME', 'cannot add home mount with empty destination', {
      hint: 'use --home DST or --home SRC:DST',
    });
  }
  const destination = cleanContainerPath(dest);
  if (destination === undefined || destination === '/') {
    throw new MountsError(
      'ERR_MOUNTS_HOME',
      `home destination ${JSON.stringify(dest)} must be an absolute path below /`,
      { hint: 'use --home /home/you or --home SRC:/home/you' },
    );
  }
  if (parts.length === 1) return { destination };
  if (parts[0] === '') {
    throw new MountsError('ERR_MOUNTS_HOME', `home source is empty in ${JSON.stringify(text)}`, {
      hint: 'use --home SRC:DST with a host directory as SRC',
    });
  }
  return { source: resolve(cwd, parts[0] as string), destination };
}

/**
 * Parses `--scratch` values: comma-separated absolute container paths (clean, not `/`), in
 * order, without duplicates. Throws `ERR_MOUNTS_SCRATCH`.
 */
export function parseScratchDirs(values: string[]): string[] {
  const list = parseOptions(Strings, values, 'scratch values', MountsError);
  const out: string[] = [];
  for (const value of list) {
    for (const raw of value.split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      const dir = cleanContainerPath(item);
      if (dir === undefined || dir === '/') {
        throw new MountsError(
          'ERR_MOUNTS_SCRATCH',
          `scratch directory ${JSON.stringify(item)} must be an absolute path below /`,
          { hint: 'use --scratch /scratch' },
        );
      }
      if (!out.includes(dir)) out.push(dir);
    }
  }
  return out;
}

/** The names `--no-mount` understands besides absolute container paths. */
export const NO_MOUNT_NAMES = [
  'proc',
  'sys',
  'dev',
  'devpts',
  'tmp',
  'home',
  'cwd',
  'bind-paths',
] as const;

/**
 * Parses `--no-mount` values: comma-separated names (`NO_MOUNT_NAMES`) or absolute container
 * paths (cleaned), deduplicated. `dev` and `devpts` are refused (`ERR_MOUNTS_NO_MOUNT_REQUIRED`:
 * the container needs them); other words are returned in `unknown` for the caller to warn about.
 */
export function parseNoMount(values: string[]): { names: string[]; unknown: string[] } {
  const list = parseOptions(Strings, values, 'no-mount values', MountsError);
  const names: string[] = [];
  const unknown: string[] = [];
  for (const value of list) {
    for (const raw of value.split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      if (item === 'dev' || item === 'devpts') {
        const path = item === 'dev' ? '/dev' : '/dev/pts';
        throw new MountsError(
          'ERR_MOUNTS_NO_MOUNT_REQUIRED',
          `oci mode requires ${path} to be mounted, but '--no-mount ${item}' was requested`,
          { hint: `remove '${item}' from --no-mount` },
        );
      }
      const name = item.startsWith('/') ? cleanContainerPath(item) : item;
      if (name === undefined || !(name.startsWith('/') || NO_MOUNT_NAMES.includes(name as never))) {
        if (!unknown.includes(item)) unknown.push(item);
        continue;
      }
      if (!names.includes(name)) names.push(name);
    }
  }
  return { names, unknown };
}

/**
 * The directories a `--workdir` needs (docs/singularity-compat.md, "Mounts", steps 4 and 6), parents first:
 * `W/tmp`, `W/var_tmp`, and with scratch directories `W/scratch` and `W/scratch/<dir>` for
 * each. The caller creates them (mode 01777); `workdir` must be absolute.
 */
export function workdirDirectories(workdir: string, scratch: string[] = []): string[] {
  if (!isAbsolute(workdir)) {
    throw new MountsError(
      'ERR_MOUNTS_WORKDIR',
      `workdir ${JSON.stringify(workdir)} is not absolute`,
      {
        hint: 'resolve it against the current directory first',
      },
    );
  }
  const dirs = [join(workdir, 'tmp'), join(workdir, 'var_tmp')];
  if (scratch.length > 0) {
    dirs.push(join(workdir, 'scratch'));
    for (const s of scratch) {
      const parts = (cleanContainerPath(s) ?? s).split('/').filter(Boolean);
      for (let i = 1; i <= parts.length; i++) {
        const d = join(workdir, 'scratch', ...parts.slice(0, i));
        if (!dirs.includes(d)) dirs.push(d);
      }
    }
  }
  return dirs;
}
