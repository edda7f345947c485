// Needs: an image, the first argument: oci:DIR[:TAG], oci-archive:FILE[:TAG],
// docker-archive:FILE, or docker://NAME (from the network; default docker://alpine:3.20).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cleanCache,
  fetchImageBlobs,
  imageDefaults,
  listCache,
  parseResolvedImage,
  resolveImage,
  TokenCache,
  unpackImageAtomic,
  unpackToCache,
} from '@berth-oci/image-extract';

const ref = process.argv[2] ?? 'docker://alpine:3.20';
const work = await mkdtemp(join(tmpdir(), 'image-extract-'));
const cacheDir = join(work, 'cache'); // defaultCacheDir() is berth's: $BERTH_CACHEDIR, ~/.cache/berth

// A registry's manifest and config are fetched (verified) into the blob cache of cacheDir;
// local images are read in place.
const tokenCache = new TokenCache(); // optional: one registry token for both calls
const image = await resolveImage(ref, { cacheDir, tokenCache });
await fetchImageBlobs(image, {
  tokenCache,
  onProgress: (e) => console.error(e.phase, `${e.layer}/${e.layers}`),
});
const { entrypoint, cmd, env, workingDir, user } = imageDefaults(image.config);
console.log({ entrypoint, cmd, env, workingDir, user });

// One-off unpack: into <dest>.tmp-<random>, renamed into place only on success.
const rootfs = join(work, 'rootfs');
await unpackImageAtomic(image, rootfs, {
  onWarning: (message) => console.error(`warning: ${message}`),
});
console.log(await readdir(rootfs)); // [ 'bin', 'etc', ... ]

// Cached unpack (locked, atomic): the same image twice is unpacked once.
const cached = await unpackToCache({ image, cacheDir, variant: 'plain' });
console.log(cached);

// A resolved image is plain data: another process can receive it as JSON and check it.
const received = parseResolvedImage(JSON.parse(JSON.stringify(image)));
console.log(received.manifestDigest);

// What the cache holds, and cleaning it (leftovers and unused blobs by default).
const listing = await listCache(cacheDir);
console.log(listing.images.map((e) => `${e.refs[0]} ${e.variant}`));
const { removed, busy } = await cleanCache({ cacheDir, all: true });
console.log(removed.length, busy);
await rm(work, { recursive: true, force: true });
