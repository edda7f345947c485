import { statSync } from 'node:fs';
import * as path from 'node:path';
import * as v from 'valibot';
import { ImageError, q } from '../errors.js';
import { isDigest } from './digest.js';
import { indexArchive } from './tar-index.js';

const absolutePath = v.pipe(
  v.string(),
  v.check((p) => path.isAbsolute(p), 'must be an absolute path'),
);
const nonEmpty = v.pipe(v.string(), v.minLength(1));

/** A parsed image reference, one variant per transport. */
export const ImageRefSchema = v.variant('transport', [
  v.strictObject({
    /** An OCI image layout directory. */
    transport: v.literal('oci'),
    path: absolutePath,
    /** The `org.opencontainers.image.ref.name` to select from `index.json`. */
    tag: v.optional(nonEmpty),
  }),
  v.strictObject({
    /** A tar of an OCI image layout, read in place. */
    transport: v.literal('oci-archive'),
    path: absolutePath,
    tag: v.optional(nonEmpty),
  }),
  v.strictObject({
    /** A `docker save` (or `skopeo copy ... docker-archive:`) tar, read in place. */
    transport: v.literal('docker-archive'),
    path: absolutePath,
    /** `NAME:TAG` from the archive's `RepoTags`, or `@N` (the N-th image, from 0). */
    reference: v.optional(nonEmpty),
  }),
  v.strictObject({
    /** A registry speaking the OCI distribution API. */
    transport: v.literal('docker'),
    /** `host[:port]`; Docker Hub is `docker.io`. */
    registry: nonEmpty,
    /** `library/alpine`, `org/app`, ... */
    repository: nonEmpty,
    tag: v.optional(nonEmpty),
    digest: v.optional(
      v.pipe(
        v.string(),
        v.check((s) => isDigest(s), 'must be a sha256 digest'),
      ),
    ),
  }),
]);
export type ImageRef = v.InferOutput<typeof ImageRefSchema>;
export type DockerRef = Extract<ImageRef, { transport: 'docker' }>;

const ACCEPTED_HINT =
  'use docker://[HOST/]NAME[:TAG|@DIGEST], oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE, or the path of a layout directory or archive';

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isLayoutDir(dir: string): boolean {
  return isFile(path.join(dir, 'oci-layout'));
}

/** What kind of archive a file is, by its members. */
function archiveKind(file: string): 'oci-archive' | 'docker-archive' | undefined {
  if (!isFile(file)) return undefined;
  try {
    const index = indexArchive(file);
    if (index.has('oci-layout') && index.has('index.json')) return 'oci-archive';
    if (index.has('manifest.json')) return 'docker-archive';
  } catch {
    // not a readable tar
  }
  return undefined;
}

/** Splits `X[:TAG]`: the tag follows the last ':' that comes after the last '/'. */
function splitTag(rest: string): { dir: string; tag: string | undefined } {
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/'))
    return { dir: rest.slice(0, colon), tag: rest.slice(colon + 1) };
  return { dir: rest, tag: undefined };
}

function invalid(ref: string, why: string, hint = ACCEPTED_HINT): ImageError {
  return new ImageError(
    'ERR_IMAGE_REF_INVALID',
    `invalid image reference ${q(ref)}${why ? `: ${why}` : ''}`,
    {
      hint,
    },
  );
}

function pathRef(
  ref: string,
  transport: 'oci' | 'oci-archive',
  p: string,
  tag: string | undefined,
): ImageRef {
  if (p === '') throw invalid(ref, 'empty path');
  if (tag !== undefined && tag === '') {
    throw invalid(
      ref,
      'empty tag',
      `write ${transport}:PATH:TAG with a tag, or ${transport}:PATH without the trailing ":"`,
    );
  }
  const out: { transport: 'oci' | 'oci-archive'; path: string; tag?: string } = {
    transport,
    path: path.resolve(p),
  };
  if (tag !== undefined) out.tag = tag;
  return out;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const HOST_RE =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/;

/**
 * Parses the part after `docker://`: `[HOST[:PORT]/]NAME[:TAG][@DIGEST]`, with Docker Hub's
 * normalisation (`alpine` → `docker.io/library/alpine:latest`, `index.docker.io` → `docker.io`).
 */
export function parseDockerReference(rest: string, original = `docker://${rest}`): DockerRef {
  if (rest === '') throw invalid(original, 'no image name after docker://');
  let name = rest;
  let digest: string | undefined;
  const at = name.indexOf('@');
  if (at !== -1) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!isDigest(digest)) {
      throw invalid(
        original,
        `${q(digest)} is not a sha256 digest`,
        'digests are "sha256:" followed by 64 lower-case hex digits',
      );
    }
  }
  let tag: string | undefined;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG_RE.test(tag)) {
      throw invalid(
        original,
        `${q(tag)} is not a valid tag`,
        'tags are up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"',
      );
    }
  }
  let registry = 'docker.io';
  let repository = name;
  const slash = name.indexOf('/');
  if (slash !== -1) {
    const first = name.slice(0, slash);
    if (
      first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase()
    ) {
      registry = first;
      repository = name.slice(slash + 1);
    }
  }
  if (!HOST_RE.test(registry))
    throw invalid(original, `${q(registry)} is not a valid registry host`);
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  if (repository === '' || !repository.split('/').every((c) => PATH_COMPONENT.test(c))) {
    throw invalid(
      original,
      `${q(repository)} is not a valid repository name`,
      'repository names are lower-case letters, digits and separators (".", "_", "__", "-"), in "/"-separated parts',
    );
  }
  if (registry.length + 1 + repository.length > 255)
    throw invalid(original, 'the name is longer than 255 characters');
  const out: DockerRef = { transport: 'docker', registry, repository };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  if (tag === undefined && digest === undefined) out.tag = 'latest';
  return out;
}

/** `FILE[:REST]` for archives: the longest existing-file prefix before a ':' wins. */
function splitArchive(rest: string): { file: string; extra: string | undefined } {
  if (isFile(rest) || !rest.includes(':')) return { file: rest, extra: undefined };
  for (let i = rest.indexOf(':'); i !== -1; i = rest.indexOf(':', i + 1)) {
    const file = rest.slice(0, i);
    if (isFile(file)) return { file, extra: rest.slice(i + 1) };
  }
  return { file: rest, extra: undefined };
}

/**
 * Parses an image reference:
 * - `docker://[HOST[:PORT]/]NAME[:TAG][@DIGEST]` (Docker Hub short names normalised);
 * - `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME:TAG|:@N]`;
 * - a bare path, recognised by its content: a directory holding `oci-layout` (oci), a tar
 *   holding `oci-layout` and `index.json` (oci-archive) or `manifest.json` (docker-archive),
 *   optionally followed by `:TAG`.
 * Anything else throws ERR_IMAGE_REF_INVALID.
 */
export function parseImageRef(ref: string): ImageRef {
  if (typeof ref !== 'string' || ref === '') throw invalid('', 'empty');
  if (ref.includes('\0')) throw invalid(ref, 'contains a NUL byte');
  if (ref.startsWith('docker://')) return parseDockerReference(ref.slice(9), ref);
  if (ref.startsWith('oci:')) {
    const { dir, tag } = splitTag(ref.slice(4));
    return pathRef(ref, 'oci', dir, tag);
  }
  if (ref.startsWith('oci-archive:')) {
    const rest = ref.slice(12);
    if (isFile(rest)) return pathRef(ref, 'oci-archive', rest, undefined);
    const { dir, tag } = splitTag(rest);
    return pathRef(ref, 'oci-archive', dir, tag);
  }
  if (ref.startsWith('docker-archive:')) {
    const { file, extra } = splitArchive(ref.slice(15));
    if (file === '') throw invalid(ref, 'empty path');
    if (extra !== undefined && extra === '') throw invalid(ref, 'empty image name after the file');
    const out: ImageRef = { transport: 'docker-archive', path: path.resolve(file) };
    if (extra !== undefined) out.reference = extra;
    return out;
  }
  for (const t of ['docker:', 'docker-daemon:', 'containers-storage:', 'dir:', 'http:', 'https:']) {
    if (ref.startsWith(t)) {
      throw new ImageError(
        'ERR_IMAGE_TRANSPORT_UNSUPPORTED',
        `transport ${q(t.slice(0, -1))} is not supported (image reference ${q(ref)})`,
        { hint: ACCEPTED_HINT },
      );
    }
  }
  // A bare path, recognised by its content: the whole string first, then PATH:TAG.
  const whole = path.resolve(ref);
  if (isDir(whole) && isLayoutDir(whole)) return pathRef(ref, 'oci', ref, undefined);
  const kind = archiveKind(whole);
  if (kind === 'oci-archive') return pathRef(ref, 'oci-archive', ref, undefined);
  if (kind === 'docker-archive') return { transport: 'docker-archive', path: whole };
  const { dir, tag } = splitTag(ref);
  if (tag !== undefined && dir !== '') {
    const p = path.resolve(dir);
    if (isDir(p) && isLayoutDir(p)) return pathRef(ref, 'oci', dir, tag);
    const k = archiveKind(p);
    if (k === 'oci-archive') return pathRef(ref, 'oci-archive', dir, tag);
    if (k === 'docker-archive') return { transport: 'docker-archive', path: p, reference: tag };
  }
  const { file, extra } = splitArchive(ref);
  if (extra && archiveKind(path.resolve(file)) === 'docker-archive')
    return { transport: 'docker-archive', path: path.resolve(file), reference: extra };
  const looksLikeName =
    /^[a-z0-9][a-z0-9._/-]*(:[\w][\w.-]*)?$/.test(ref) && !isFile(whole) && !isDir(whole);
  throw invalid(
    ref,
    isDir(whole)
      ? 'the directory is not an OCI image layout'
      : isFile(whole)
        ? 'the file is not an image archive'
        : '',
    looksLikeName
      ? `to pull from a registry write docker://${ref}; ${ACCEPTED_HINT}`
      : ACCEPTED_HINT,
  );
}

/** Formats a reference back to its string form (`docker://docker.io/library/alpine:latest`, `oci:/abs/dir:tag`). */
export function formatImageRef(ref: ImageRef): string {
  switch (ref.transport) {
    case 'docker':
      return `docker://${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
    case 'docker-archive':
      return `docker-archive:${ref.path}${ref.reference === undefined ? '' : `:${ref.reference}`}`;
    default:
      return `${ref.transport}:${ref.path}${ref.tag === undefined ? '' : `:${ref.tag}`}`;
  }
}
