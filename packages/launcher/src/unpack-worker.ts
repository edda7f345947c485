/**
 * Unpack worker: runs inside the outer user namespace (started by `ensureRootfs` through
 * `unshare`), so that it may give unpacked files to the subordinate ids — and remove such trees.
 * Reads a WorkerRequest as JSON on stdin and writes WorkerMessage lines on stdout. It never
 * touches the network: the parent resolved the image and fetched its layers into the blob
 * cache; every blob is verified again here before it is unpacked.
 */
import path from 'node:path';
import { isBerthError } from '@berth-oci/errors';
import { removeTree, unpackImage, unpackToCache } from '@berth-oci/image-extract';
import { ownerFunction } from './identity.js';
import type { WorkerMessage, WorkerRequest } from './rootfs.js';

function send(msg: WorkerMessage): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const req = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WorkerRequest;
  if (req.op === 'remove') {
    for (const p of req.paths) {
      if (!path.isAbsolute(p) || path.resolve(p) === '/')
        throw new Error(`refusing to remove ${JSON.stringify(p)}`);
      await removeTree(p);
    }
    send({ type: 'done', path: '' });
    return;
  }
  if (req.op === 'unpack-into') {
    await unpackImage(req.image, req.dest, {
      owner: req.ownerMaps ? ownerFunction(req.ownerMaps) : undefined,
      onWarning: (message: string) => send({ type: 'warning', message }),
    });
    send({ type: 'done', path: req.dest });
    return;
  }
  const rootfs = await unpackToCache({
    image: req.image,
    cacheDir: req.cacheDir,
    variant: req.variant,
    owner: req.ownerMaps ? ownerFunction(req.ownerMaps) : undefined,
    onWarning: (message: string) => send({ type: 'warning', message }),
    onProgress: (event) => send({ type: 'progress', event }),
  });
  send({ type: 'done', path: rootfs });
}

main().catch((e: unknown) => {
  if (isBerthError(e)) send({ type: 'error', code: e.code, message: e.message, hint: e.hint });
  else
    send({
      type: 'error',
      code: 'ERR_LAUNCH_UNPACK',
      message: `unpacking failed: ${(e as Error)?.message ?? e}`,
    });
  process.exitCode = 1;
});
