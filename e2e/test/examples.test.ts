/**
 * The README examples that need the host's container tools (their `// Needs:` line), run as
 * root against the built packages, as a reader would run them: `node --import=tsx
 * examples/usage.ts ARGS` in the package's folder, importing the package by its own name.
 * The others are run by scripts/check-examples.mjs (the `examples` check).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BERTH, berth, REPO, type RunOptions, requireRoot, workDir } from '../src/harness.js';
import { buildDemoImage, type TestImage } from '../src/images.js';

requireRoot();

let work: string;
let image: TestImage;
let cacheDir: string;
const opts = (): RunOptions => ({ profile: 'root', runtime: 'crun', cacheDir });

/** Runs packages/<name>/examples/<file> with `args`, as root, with crun unless `env` says. */
async function example(
  name: string,
  args: string[],
  env: Record<string, string> = {},
  file = 'usage.ts',
) {
  const r = await execa(process.execPath, ['--import=tsx', `examples/${file}`, ...args], {
    cwd: path.join(REPO, 'packages', name),
    env: { BERTH_CACHEDIR: cacheDir, BERTH_RUNTIME: 'crun', ...env },
    stdin: 'ignore',
    reject: false,
    stripFinalNewline: false,
    timeout: 120_000,
  });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A bundle made by `berth oci mount`, its process changed by `edit`. */
async function bundle(name: string, edit: (process: Record<string, unknown>) => void) {
  const dir = path.join(work, name);
  const r = await berth(['oci', 'mount', image.ref, dir], opts());
  assert.is(r.code, 0, r.stderr);
  const file = path.join(dir, 'config.json');
  const spec = JSON.parse(await readFile(file, 'utf8'));
  edit(spec.process);
  await writeFile(file, JSON.stringify(spec));
  return dir;
}

test.before(async () => {
  work = await workDir('berth-e2e-examples-');
  cacheDir = path.join(work, 'cache');
  image = await buildDemoImage(path.join(work, 'layout'));
});

test.after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('launcher: launch() and start() run the image', async () => {
  const r = await example('launcher', [image.ref]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '0\nexit status 0\nexit status 0: working\n\n', r.stderr);
});

test('launcher: a missing image is a thrown error, not an exit status', async () => {
  const r = await example('launcher', [`oci:${path.join(work, 'nowhere')}:demo`]);
  assert.is.not(r.code, 0);
  assert.not.match(r.stdout, /exit status/);
  assert.match(r.stderr, /nowhere/);
});

test('cli: main() runs berth exec in-process', async () => {
  const r = await example('cli', [image.ref]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^berth \d+\.\d+\.\d+\nhello from berth\n$/);
});

test('image-extract: resolve, unpack once and cached, list and clean', async () => {
  const r = await example('image-extract', [image.ref]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /'bin'/);
  assert.match(r.stdout, image.manifestDigest);
});

test("runtime-ops: runContainer gives the container's status", async () => {
  const dir = await bundle('bundle-run', (p) => {
    p.terminal = false;
    p.args = ['/bin/sh', '-c', 'echo ran; exit 7'];
  });
  // runc: crun refuses a hybrid cgroup host when it is not given a cgroup layout it accepts
  const r = await example('runtime-ops', [dir], { BERTH_RUNTIME: 'runc' });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'ran\nexit status 7\n', r.stderr);
  // a runtime that fails before the container's process runs is a thrown error
  const failing = await bundle('bundle-fail', (p) => {
    p.cwd = 'relative/cwd';
  });
  const f = await example('runtime-ops', [failing], { BERTH_RUNTIME: 'runc' });
  assert.is.not(f.code, 0);
  assert.not.match(f.stdout, /exit status/);
  assert.match(f.stderr, /ERR_RUNTIME_OP|runc/);
  await berth(['oci', 'umount', failing], opts());
  await berth(['oci', 'umount', dir], opts());
});

test('runtime-ops: state, exec, kill and remove of a running container of the store', async () => {
  const dir = await bundle('bundle-ops', (p) => {
    p.args = ['/bin/sh', '-c', 'sleep 60'];
  });
  const id = `examples-ops-${process.pid}`;
  for (const step of [
    ['oci', 'create', '-b', dir, id],
    ['oci', 'start', id],
  ]) {
    const r = await berth(step, opts());
    assert.is(r.code, 0, r.stderr);
  }
  try {
    const r = await example('runtime-ops', [id], {}, 'container-ops.ts');
    assert.is(r.code, 0, r.stderr);
    const [state, exec] = r.stdout.split('\n');
    assert.is(JSON.parse(state as string).status, 'running');
    assert.is(exec, 'exec exit status 7');
    const gone = await berth(['oci', 'state', id], opts());
    assert.is(gone.code, 255, 'the container is still in the store');
  } finally {
    await berth(['oci', 'delete', '--force', id], opts());
    await berth(['oci', 'umount', dir], opts());
  }
});

test('conmon-create: a container created under conmon, started, waited for, deleted', async () => {
  const dir = await bundle('bundle-conmon', (p) => {
    p.args = ['/bin/sh', '-c', 'exit 3'];
  });
  const r = await example('conmon-create', [dir]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'exit status 3\n', r.stderr);
  await berth(['oci', 'umount', dir], opts());
});

test('conmon-create: createContainer for a bundle and a state directory of your own', async () => {
  const dir = await bundle('bundle-low', (p) => {
    p.terminal = false;
    p.args = ['/bin/sh', '-c', 'exit 5'];
  });
  const state = path.join(work, 'state-low');
  await mkdir(state);
  const r = await example('conmon-create', [dir, state], { BERTH_RUNTIME: 'runc' }, 'low-level.ts');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'created: init true, conmon true\nexit status 5\n', r.stderr);
  await berth(['oci', 'umount', dir], opts());
});

test('attach: attached before the start, the whole output arrives', async () => {
  const dir = await bundle('bundle-attach', (p) => {
    p.args = ['/bin/echo', 'attached'];
  });
  const id = `examples-attach-${process.pid}`;
  const created = await berth(['oci', 'create', '-b', dir, id], opts());
  assert.is(created.code, 0, created.stderr);
  try {
    const r = await example('attach', [dir, process.execPath, BERTH, 'oci', 'start', id]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /^attached\r?\nthe container exited\n$/, `${r.stdout}\n${r.stderr}`);
  } finally {
    await berth(['oci', 'delete', '--force', id], opts());
    await berth(['oci', 'umount', dir], opts());
  }
});

test.run();
