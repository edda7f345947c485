import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Mount } from '@berth-oci/bundle-spec';
import { parseOptions } from '@berth-oci/errors';
import * as v from 'valibot';
import { MountsError } from './errors.js';
import { cleanContainerPath, isUnder } from './paths.js';

/** One parsed `--bind`: the host source as given, a clean absolute destination, ro or not. */
export interface BindSpec {
  source: string;
  destination: string;
  readonly: boolean;
}

export const BindSpecSchema = v.object({
  source: v.pipe(v.string(), v.minLength(1, 'a bind source must not be empty')),
  destination: v.pipe(
    v.string(),
    v.check((p) => cleanContainerPath(p) !== undefined, 'a bind destination must be absolute'),
  ),
  readonly: v.boolean(),
});

const FLAG_OPTIONS = new Set(['ro', 'rw']);
const VALUE_OPTIONS = ['image-src', 'id'];

/** A token that reads as a bind option (upstream's rule for continuing an option list). */
function looksLikeOption(token: string): boolean {
  return FLAG_OPTIONS.has(token) || VALUE_OPTIONS.some((o) => token.startsWith(`${o}=`));
}

interface RawBind {
  text: string;
  fields: string[];
}

function finish(raw: RawBind): BindSpec {
  const [source = '', dest, opts] = raw.fields;
  const spec = JSON.stringify(raw.text);
  if (source === '') {
    throw new MountsError(
      'ERR_MOUNTS_BIND_SPEC',
      `bind specification ${spec} has an empty source`,
      {
        hint: 'use --bind src[:dst[:ro|rw]]',
      },
    );
  }
  const wanted = dest ?? source;
  const destination = cleanContainerPath(wanted);
  if (destination === undefined) {
    const escapes = wanted.startsWith('/');
    throw new MountsError(
      'ERR_MOUNTS_BIND_DESTINATION',
      escapes
        ? `bind destination ${JSON.stringify(wanted)} climbs above /`
        : `bind destination ${JSON.stringify(wanted)} must be an absolute path`,
      {
        hint: escapes
          ? 'remove the ".." that climbs above the container root'
          : dest === undefined
            ? `a relative source needs an absolute destination: --bind ${source}:/path/in/container`
            : 'start the destination with "/"',
      },
    );
  }
  if (destination === '/') {
    throw new MountsError(
      'ERR_MOUNTS_BIND_DESTINATION',
      `bind destination ${JSON.stringify(wanted)} would cover the container root`,
      { hint: 'bind to a directory below /' },
    );
  }
  let readonly = false;
  if (opts !== undefined) {
    for (const opt of opts.split(',').map((o) => o.trim())) {
      if (opt === 'ro') readonly = true;
      else if (opt === 'rw') continue;
      else if (VALUE_OPTIONS.some((o) => opt.startsWith(`${o}=`))) {
        throw new MountsError(
          'ERR_MOUNTS_BIND_UNSUPPORTED',
          `bind option "${opt}" is not supported: berth cannot bind from inside an image`,
          { hint: 'bind a host directory instead (src[:dst[:ro|rw]])' },
        );
      } else {
        throw new MountsError('ERR_MOUNTS_BIND_OPTION', `"${opt}" is not a valid bind option`, {
          hint: 'bind options are ro and rw',
        });
      }
    }
  }
  return { source, destination, readonly };
}

/**
 * Parses `--bind` values (docs/singularity-compat.md, "Mounts", step 8). Each value holds one or more specs
 * separated by commas, each `src[:dst[:opts]]`; `dst` defaults to `src`; options are `ro`
 * or `rw` and may continue after a comma (`a:/a:ro,rw,b` is two binds); a value naming no
 * bind at all (`''`, `',,'`) is an error. Destinations come
 * back clean. Throws `ERR_MOUNTS_BIND_SPEC`, `ERR_MOUNTS_BIND_OPTION`,
 * `ERR_MOUNTS_BIND_UNSUPPORTED` (`image-src=`, `id=`) or `ERR_MOUNTS_BIND_DESTINATION`.
 */
export function parseBindSpecs(values: string[]): BindSpec[] {
  const list = parseOptions(v.array(v.string()), values, 'bind values', MountsError);
  const binds: BindSpec[] = [];
  for (const value of list) {
    let current: RawBind | undefined;
    if (value.split(',').every((piece) => piece.trim() === '')) {
      throw new MountsError(
        'ERR_MOUNTS_BIND_SPEC',
        `bind specification ${JSON.stringify(value)} names no path`,
        { hint: 'use --bind src[:dst[:ro|rw]] (several separated by commas)' },
      );
    }
    for (const piece of value.split(',')) {
      const token = piece.trim();
      if (token === '') continue;
      // an option after src:dst:opt continues that option list
      if (current && current.fields.length === 3 && looksLikeOption(token)) {
        current.fields[2] = `${current.fields[2]},${token}`;
        current.text = `${current.text},${token}`;
        continue;
      }
      if (current) binds.push(finish(current));
      const fields = token.split(':');
      if (fields.length > 3) {
        throw new MountsError(
          'ERR_MOUNTS_BIND_SPEC',
          `bind specification ${JSON.stringify(token)} has more than three ":" fields`,
          { hint: 'use --bind src[:dst[:ro|rw]]; paths with ":" cannot be bound' },
        );
      }
      current = { text: token, fields: fields.map((f) => f.trim()) };
    }
    if (current) binds.push(finish(current));
  }
  return binds;
}

export const BindMountsOptionsSchema = v.strictObject({
  /** `--allow-setuid`: leave `nosuid` off plain binds. */
  allowSetuid: v.optional(v.boolean(), false),
  /** berth runs as host root: the devpts of a host /dev bind gets `gid=<ttyGid>`. */
  hostRoot: v.optional(v.boolean(), false),
  /** The host's `tty` group (see hostRoot). */
  ttyGid: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  /** Directory relative sources are resolved against; default `process.cwd()`. */
  cwd: v.optional(v.pipe(v.string(), v.minLength(1))),
});
export type BindMountsOptions = v.InferInput<typeof BindMountsOptionsSchema>;

/**
 * Makes a bind source absolute against `cwd` and checks that it exists; returns the absolute
 * path. Throws `ERR_MOUNTS_BIND_SOURCE` naming it.
 */
export async function checkBindSource(
  source: string,
  cwd: string = process.cwd(),
): Promise<string> {
  const absolute = resolve(cwd, source);
  try {
    await stat(absolute);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new MountsError(
      'ERR_MOUNTS_BIND_SOURCE',
      missing
        ? `bind source "${absolute}" does not exist`
        : `cannot stat bind source "${absolute}"`,
      {
        hint: missing
          ? `check the path on the host${source === absolute ? '' : ` (relative sources are resolved against ${cwd})`}`
          : `check that "${absolute}" is accessible to you`,
        cause,
      },
    );
  }
  return absolute;
}

/**
 * Turns parsed binds into spec mounts. Each source is made absolute against `cwd` and must
 * exist (`ERR_MOUNTS_BIND_SOURCE`). A plain bind is `type: none` with
 * `rbind,nodev[,nosuid][,noexec][,ro]` (`nosuid,noexec` always for /proc and /sys sources).
 * Sources under /dev are device binds as upstream: the destination must be the same path
 * (`ERR_MOUNTS_BIND_DEVICE`) and the options are `bind,nosuid[,ro]` (no `nodev`). The host
 * /dev itself may only go to /dev: it becomes a full /dev bind plus a new devpts.
 */
export async function bindMounts(
  specs: BindSpec[],
  options: BindMountsOptions = {},
): Promise<Mount[]> {
  const list = parseOptions(v.array(BindSpecSchema), specs, 'bind specs', MountsError);
  const o = parseOptions(BindMountsOptionsSchema, options, 'bindMounts options', MountsError);
  const cwd = o.cwd ?? process.cwd();
  const mounts: Mount[] = [];
  for (const bind of list) {
    const source = await checkBindSource(bind.source, cwd);
    const destination = cleanContainerPath(bind.destination) as string;
    if (source === '/dev') {
      // the whole host /dev, as upstream: only at /dev, with a new devpts on top
      if (destination !== '/dev') {
        throw new MountsError(
          'ERR_MOUNTS_BIND_DEVICE',
          'host /dev may only be bound to /dev in the container',
          { hint: 'use --bind /dev' },
        );
      }
      const devpts = ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'];
      if (o.hostRoot && o.ttyGid !== undefined) devpts.push(`gid=${o.ttyGid}`);
      mounts.push(
        {
          destination: '/dev',
          type: 'bind',
          source: '/dev',
          options: ['nosuid', 'rprivate', 'rbind', 'rw'],
        },
        { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: devpts },
      );
      continue;
    }
    if (isUnder(source, '/dev')) {
      if (destination !== source) {
        throw new MountsError(
          'ERR_MOUNTS_BIND_DEVICE',
          `device bind source "${source}" must be the same as destination "${destination}"`,
          { hint: `use --bind ${source}` },
        );
      }
      mounts.push({
        destination,
        type: 'none',
        source,
        options: ['bind', 'nosuid', ...(bind.readonly ? ['ro'] : [])],
      });
      continue;
    }
    const opts = ['rbind', 'nodev'];
    const kernelFs = isUnder(source, '/proc') || isUnder(source, '/sys');
    if (!o.allowSetuid || kernelFs) opts.push('nosuid');
    if (kernelFs) opts.push('noexec');
    if (bind.readonly) opts.push('ro');
    mounts.push({ destination, type: 'none', source, options: opts });
  }
  return mounts;
}
