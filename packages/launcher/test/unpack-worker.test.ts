import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
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

test('the worker stops at once when its parent dies', async () => {
  // a shell starts the worker and is killed by SIGKILL; the worker's stdin (fd 3 of the shell,
  // held open by this test) never ends, so only noticing its parent is gone can end it
  const sh = spawn(
    'sh',
    ['-c', `"$0" --import tsx "$1" <&3 & echo $!; exec sleep 60`, process.execPath, WORKER],
    { stdio: ['ignore', 'pipe', 'ignore', 'pipe'] },
  );
  let pid = 0;
  // alive: not gone and not a zombie (an orphan's reaper may be slow to reap it)
  const alive = async () =>
    readFile(`/proc/${pid}/stat`, 'utf8').then(
      (s) => !/^\d+ \(.*\) Z /.test(s),
      () => false,
    );
  try {
    pid = Number(
      await new Promise<string>((resolve) => sh.stdout?.once('data', (d) => resolve(String(d)))),
    );
    assert.ok(pid > 0);
    await new Promise((r) => setTimeout(r, 1500)); // tsx has loaded the worker
    assert.ok(await alive(), 'the worker waits for its request');
    sh.kill('SIGKILL');
    const start = Date.now();
    while ((await alive()) && Date.now() - start < 3000)
      await new Promise((r) => setTimeout(r, 20));
    assert.not.ok(await alive(), 'the worker still runs 3 s after its parent died');
  } finally {
    sh.kill('SIGKILL');
    (sh.stdio[3] as NodeJS.WritableStream & { destroy(): void }).destroy();
    if (pid > 0 && (await alive())) process.kill(pid, 'SIGKILL');
  }
});

test.run();
