/**
 * Unpack worker: runs inside the outer user namespace (started by `ensureRootfs` through
 * `unshare`), so that it may give unpacked files to the subordinate ids — and remove such trees.
 * Reads a WorkerRequest as JSON on stdin and writes WorkerMessage lines on stdout. It never
 * touches the network: the parent resolved the image and fetched its layers into the blob
 * cache; every blob is verified again here before it is unpacked. A failure is sent as
 * `errorToJSON` output: a berth error keeps its code and hint, anything else arrives as a bug
 * (`internal`), with its stack.
 *
 * The worker stops at once when its parent dies (it is reparented, or its stdout pipe breaks):
 * nobody waits for its work, and the cache lock it holds must be freed. Exiting is safe at any
 * moment: a cache entry is written beside its final name and renamed when complete (a later
 * unpack removes what was left), and the lock, a child's flock, is freed when this process exits.
 */
import path from 'node:path';
import { errorToJSON } from '@berth-oci/errors';
import {
  removeTree,
  type UnpackProgress,
  unpackImage,
  unpackToCache,
} from '@berth-oci/image-extract';
import * as v from 'valibot';
import { ownerFunction } from './identity.js';
import { type WorkerMessage, WorkerRequestSchema } from './worker-protocol.js';

/** How often the worker checks that its parent is alive (ms). */
const PARENT_POLL_MS = 50;

/** Exits as soon as the parent that started this worker is gone. */
function watchParent(): void {
  const parent = process.ppid;
  const orphaned = () => {
    process.exitCode = 2;
    process.exit();
  };
  setInterval(() => {
    if (process.ppid !== parent) orphaned();
  }, PARENT_POLL_MS).unref();
  process.stdout.on('error', orphaned);
}

function send(msg: WorkerMessage): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

async function main(): Promise<void> {
  watchParent();
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const req = v.parse(WorkerRequestSchema, JSON.parse(Buffer.concat(chunks).toString('utf8')));
  if (req.op === 'remove') {
    for (const p of req.paths) {
      if (!path.isAbsolute(p) || path.resolve(p) === '/')
        throw new Error(`refusing to remove ${JSON.stringify(p)}`);
      await removeTree(p);
    }
    send({ type: 'done', path: '' });
    return;
  }
  const owner = req.ownerMaps ? ownerFunction(req.ownerMaps) : undefined;
  const onWarning = (message: string) => send({ type: 'warning', message });
  if (req.op === 'unpack-into') {
    await unpackImage(req.image, req.dest, { owner, onWarning });
    send({ type: 'done', path: req.dest });
    return;
  }
  const rootfs = await unpackToCache({
    image: req.image,
    cacheDir: req.cacheDir,
    variant: req.variant,
    owner,
    onWarning,
    onProgress: (event: UnpackProgress) => send({ type: 'progress', event }),
  });
  send({ type: 'done', path: rootfs });
}

main().catch((e: unknown) => {
  send({ type: 'error', error: errorToJSON(e) });
  process.exitCode = 1;
});
