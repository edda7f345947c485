import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runtimeStateRoot } from '@berth-oci/runtime-ops';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LaunchError } from '../src/errors.js';
import { launch, start } from '../src/launch.js';
import { rejects } from './helpers.js';
import { writeEmptyImage } from './image-layout.js';

const WATCHED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'exit'] as const;
const listeners = () => WATCHED.map((e) => `${e}:${process.listenerCount(e)}`);

/**
 * The children of this process (pid and command), once any that are exiting are gone; the
 * esbuild service of the TypeScript loader running these tests does not count.
 */
async function children(): Promise<string[]> {
  let out: string[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    out = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      if (cmd.includes('esbuild') && cmd.includes('--service')) continue;
      out.push(`${entry} ${cmd.replaceAll('\0', ' ').trim()}`);
    }
    if (out.length === 0) return out;
    await new Promise((r) => setTimeout(r, 50));
  }
  return out;
}

let dir: string;
let ref: string;
let runtime: string;
let tmp: string;
let bundles: string;

test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'launch-'));
  ref = await writeEmptyImage(path.join(dir, 'layout'));
  tmp = path.join(dir, 'tmp');
  await (await import('node:fs/promises')).mkdir(tmp);
  // A fake runc: records its argv; `run` exits 7, or with HANG set waits for SIGTERM (exit 42).
  runtime = path.join(dir, 'runc');
  await writeFile(
    runtime,
    `#!/bin/sh
echo "$*" >> ${dir}/argv
if [ -e ${dir}/hang ]; then
  trap 'echo term >> ${dir}/got; exit 42' TERM
  : > ${dir}/started
  while :; do sleep 0.05; done
fi
exit 7
`,
  );
  await chmod(runtime, 0o755);
  const uid = process.getuid?.() ?? 0;
  bundles = path.join(await runtimeStateRoot({ uid, env: { TMPDIR: tmp } }), 'bundles');
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = (extra: Record<string, unknown> = {}) => ({
  image: ref,
  action: 'exec' as const,
  args: ['true'],
  runtime,
  // a temporary cache per launch, which must be gone afterwards
  disableCache: true,
  hostEnv: { TMPDIR: tmp, PATH: process.env.PATH },
  stdio: 'ignore' as const,
  ...extra,
});

const waitFor = async (file: string) => {
  for (let i = 0; i < 400; i++) {
    if (
      await readFile(file).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${file}`);
};

const bundleList = async () => new Set(await readdir(bundles).catch(() => [] as string[]));

test('launch() twice in one process, one aborted: no listener, temp dir or child is left', async () => {
  const before = listeners();
  const bundlesBefore = await bundleList();

  // 1. runs to the end: the container's exit status
  const status = await launch(options());
  assert.equal(status, { exitCode: 7 });
  assert.match(
    await readFile(path.join(dir, 'argv'), 'utf8'),
    / run --pid-file \S+\/container.pid --bundle \S+ berth-[0-9a-f]{16}\n/,
  );

  // 2. aborted during the preparation, once its bundle exists (the warning comes from the
  // spec step): rejects as interrupted, and the bundle is gone
  const abort = new AbortController();
  let made: string[] = [];
  const error = await rejects(
    () =>
      launch(
        options({
          signal: abort.signal,
          onWarning: async () => {
            made = [...(await bundleList())].filter((b) => !bundlesBefore.has(b));
            abort.abort('SIGINT');
          },
        }),
      ),
    'ERR_LAUNCH_INTERRUPTED',
    /launch interrupted by SIGINT/,
  );
  assert.ok(error);
  for (const b of made) assert.not.ok((await bundleList()).has(b), `bundle ${b} left behind`);

  assert.equal(listeners(), before);
  assert.equal(
    await readdir(tmp).then((l) => l.filter((n) => n !== path.basename(path.dirname(bundles)))),
    [],
  );
  assert.equal(await children(), []);
  const left = [...(await bundleList())].filter((b) => !bundlesBefore.has(b));
  assert.equal(left, []);
});

test('aborting a running container stops it (SIGTERM reaches the runtime) and cleans up', async () => {
  const before = listeners();
  await writeFile(path.join(dir, 'hang'), '');
  try {
    const abort = new AbortController();
    const running = await start(options({ signal: abort.signal }));
    assert.match(running.id, /^berth-[0-9a-f]{16}$/);
    await waitFor(path.join(dir, 'started'));
    abort.abort();
    assert.equal(await running.exited, { exitCode: 42 });
    assert.is((await readFile(path.join(dir, 'got'), 'utf8')).trim(), 'term');
    assert.is(
      await readFile(running.bundle).then(
        () => 'there',
        () => 'gone',
      ),
      'gone',
    );
  } finally {
    await rm(path.join(dir, 'hang'), { force: true });
  }
  assert.equal(listeners(), before);
  assert.equal(await children(), []);
});

test('kill() passes a signal on to the runtime', async () => {
  await writeFile(path.join(dir, 'hang'), '');
  await rm(path.join(dir, 'started'), { force: true });
  try {
    const running = await start(options());
    await waitFor(path.join(dir, 'started'));
    assert.ok(running.kill('SIGTERM'));
    assert.equal(await running.exited, { exitCode: 42 });
  } finally {
    await rm(path.join(dir, 'hang'), { force: true });
  }
  assert.equal(await children(), []);
});

test('an aborted signal before start rejects at once and leaves nothing', async () => {
  const abort = new AbortController();
  abort.abort();
  await rejects(() => launch(options({ signal: abort.signal })), 'ERR_LAUNCH_INTERRUPTED');
  assert.equal(
    await readdir(tmp).then((l) => l.filter((n) => n !== path.basename(path.dirname(bundles)))),
    [],
  );
});

test('stdio takes file descriptors: the container output goes there', async () => {
  const out = path.join(dir, 'out');
  const fs = await import('node:fs');
  const fd = fs.openSync(out, 'w');
  try {
    await writeFile(path.join(dir, 'runc-echo'), `#!/bin/sh\necho to-stdout; echo to-stderr >&2\n`);
    await chmod(path.join(dir, 'runc-echo'), 0o755);
    const echo = path.join(dir, 'echo', 'runc');
    await (await import('node:fs/promises')).mkdir(path.dirname(echo));
    await (await import('node:fs/promises')).rename(path.join(dir, 'runc-echo'), echo);
    const status = await launch(options({ runtime: echo, stdio: ['ignore', fd, 'ignore'] }));
    assert.equal(status, { exitCode: 0 });
  } finally {
    fs.closeSync(fd);
  }
  assert.is(await readFile(out, 'utf8'), 'to-stdout\n');
});

test('unknown options are refused, naming the key', async () => {
  const e = await rejects(
    () => launch({ ...options(), bind: ['/data'] } as never),
    'ERR_INVALID_OPTIONS',
    /bind/,
  );
  assert.ok(LaunchError.isInstance(e), 'a LaunchError');
  await rejects(() => launch(options({ stdio: 'pipe' })), 'ERR_INVALID_OPTIONS', /stdio/);
});

test.run();
