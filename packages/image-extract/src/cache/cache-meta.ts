/** The metadata berth keeps beside each cached rootfs: references, sizes, blobs, last use. */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as v from 'valibot';
import { isDigest } from '../core/digest.js';
import type { ResolvedImage } from '../core/resolved-image.js';

/** What berth records beside a cached rootfs (`<entry>.json`; its mtime is the last use). */
const CacheMetaSchema = v.looseObject({
  manifestDigest: v.string(),
  variant: v.string(),
  refs: v.optional(v.array(v.string()), []),
  created: v.optional(v.string()),
  bytes: v.optional(v.number()),
  entries: v.optional(v.number()),
  blobs: v.optional(v.array(v.string()), []),
  platform: v.optional(v.string()),
});
export type CacheMeta = v.InferOutput<typeof CacheMetaSchema>;

/** Every blob an image uses: the ones `cleanCache` keeps for it. */
export function imageBlobs(image: ResolvedImage): string[] {
  const out = [
    ...(image.indexDigests ?? []),
    image.manifestDigest,
    image.configDigest,
    ...image.layers.map((l) => l.digest),
  ];
  return [...new Set(out.filter(isDigest))];
}

/** `ref` first, then the older references (at most 20). */
export function mergeRefs(old: readonly string[] | undefined, ref: string): string[] {
  const out = (old ?? []).filter((r) => r !== ref);
  out.unshift(ref);
  return out.slice(0, 20);
}

/** The metadata in `file`, or undefined when missing or malformed. */
export async function readMeta(file: string): Promise<CacheMeta | undefined> {
  try {
    const r = v.safeParse(CacheMetaSchema, JSON.parse(await readFile(file, 'utf8')));
    return r.success ? r.output : undefined;
  } catch {
    return undefined;
  }
}

/** Rewrites the metadata of a rootfs entry (temporary file, then rename). */
export async function writeMeta(
  cacheDir: string,
  entry: string,
  update: (old: CacheMeta | undefined) => CacheMeta,
): Promise<void> {
  const file = path.join(path.resolve(cacheDir), 'rootfs', `${entry}.json`);
  const next = update(await readMeta(file));
  const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
