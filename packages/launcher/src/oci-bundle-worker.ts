/**
 * Bundle worker: runs inside the outer user namespace (started by `prepareBundle` through
 * `unshare`), so that it may give unpacked files to the subordinate ids. Reads a
 * BundleWorkerRequest as JSON on stdin, unpacks the image into `dest`, and writes one JSON line
 * on stdout: `{"type":"done"}` or `{"type":"error",code,message,hint}`.
 */
import { isBerthError } from '@berth/errors';
import { unpackImage } from '@berth/image-extract';
import { ownerFunction } from './identity.js';
import type { BundleWorkerRequest } from './oci-bundle.js';

const send = (msg: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(msg)}\n`);

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const req = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BundleWorkerRequest;
  await unpackImage(req.image, req.dest, {
    owner: req.ownerMaps ? ownerFunction(req.ownerMaps) : undefined,
    onWarning: (message: string) => send({ type: 'warning', message }),
  });
  send({ type: 'done' });
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
