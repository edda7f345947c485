/**
 * Unpack worker: runs inside the outer user namespace (started by `ensureRootfs` through
 * `unshare`), so that it may give unpacked files to the subordinate ids. Reads a WorkerRequest
 * as JSON on stdin and writes WorkerMessage lines on stdout.
 */
import { isBerthError } from '@berth/errors';
import { resolveImage, unpackToCache } from '@berth/image-extract';
import { ownerFunction } from './identity.js';
import type { WorkerMessage, WorkerRequest } from './rootfs.js';

function send(msg: WorkerMessage): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const req = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WorkerRequest;
  const image = await resolveImage(req.image);
  const path = await unpackToCache({
    image,
    cacheDir: req.cacheDir,
    variant: req.variant,
    owner: req.ownerMaps ? ownerFunction(req.ownerMaps) : undefined,
    onWarning: (message: string) => send({ type: 'warning', message }),
  });
  send({ type: 'done', path });
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
