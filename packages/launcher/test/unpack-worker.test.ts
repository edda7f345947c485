import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorFromJSON, isInternalError } from '@berth-oci/errors';
import { resolveImage } from '@berth-oci/image-extract';
import { execa } from 'execa';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as v from 'valibot';
import { WorkerMessageSchema } from '../src/worker-protocol.js';
import { writeEmptyImage } from './image-layout.js';

const WORKER = fileURLToPath(new URL('../src/unpack-worker.ts', import.meta.url));

/** Runs the worker (here, not in a user namespace) and returns its parsed messages. */
async function worker(request: unknown) {
  const r = await execa(process.execPath, ['--import', 'tsx', WORKER], {
    input: JSON.stringify(request),
    reject: false,
  });
  return {
    exitCode: r.exitCode,
    messages: r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => v.parse(WorkerMessageSchema, JSON.parse(l))),
  };
}

test('a bug in the worker arrives as an internal error with its stack', async () => {
  const r = await worker({ op: 'remove', paths: ['relative/path'] });
  assert.is(r.exitCode, 1);
  const msg = r.messages.at(-1);
  assert.is(msg?.type, 'error');
  if (msg?.type !== 'error') return;
  const e = errorFromJSON(msg.error);
  assert.ok(isInternalError(e));
  assert.match(e.message, /refusing to remove "relative\/path"/);
  assert.match(e.stack ?? '', /unpack-worker/);
});

test('a malformed request is refused by the schema, as a bug', async () => {
  const r = await worker({ op: 'unpack', image: { ref: 'x' } });
  const msg = r.messages.at(-1);
  assert.is(msg?.type, 'error');
  if (msg?.type === 'error') assert.ok(errorFromJSON(msg.error).internal);
});

test('a berth error keeps its code and hint, and is not a bug', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'worker-'));
  try {
    const image = await resolveImage(await writeEmptyImage(path.join(dir, 'layout')), {
      cacheDir: path.join(dir, 'cache'),
    });
    // a layer whose blob is not in the layout
    const missing = `sha256:${'2'.repeat(64)}`;
    image.layers.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: missing,
      size: 1,
      diffId: missing,
    });
    const r = await worker({
      op: 'unpack-into',
      image,
      dest: path.join(dir, 'out'),
      ownerMaps: null,
    });
    const msg = r.messages.at(-1);
    assert.is(msg?.type, 'error');
    if (msg?.type !== 'error') return;
    const e = errorFromJSON(msg.error);
    assert.not.ok(isInternalError(e), `${e.code}: ${e.message}`);
    assert.match(e.code, /^ERR_IMAGE_/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
