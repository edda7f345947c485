import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isInternalError } from '@berth-oci/errors';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as v from 'valibot';
import { openImage } from '../src/image-session.js';
import { readInputs } from '../src/inputs.js';
import { LaunchOptionsSchema } from '../src/options.js';
import { rejects } from './helpers.js';

const opts = (o: Record<string, unknown>) =>
  v.parse(LaunchOptionsSchema, { image: 'oci:/nowhere', ...o });

let dir: string;
let file: string;
test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'inputs-'));
  file = path.join(dir, 'file');
  await writeFile(file, 'A=1\n');
});

test('paths under a file are user errors naming the path', async () => {
  const under = path.join(file, 'x');
  for (const [o, code] of [
    [{ workdir: under }, 'ERR_LAUNCH_WORKDIR'],
    [{ overlays: [under] }, 'ERR_LAUNCH_OVERLAY'],
    [{ envFiles: [under] }, 'ERR_LAUNCH_ENV_FILE'],
    [{ applyCgroups: under }, 'ERR_LAUNCH_CGROUPS'],
  ] as const) {
    const e = await rejects(() => readInputs(opts(o), dir, {}), code);
    assert.ok(e.message.includes(under), e.message);
    assert.not.ok(isInternalError(e), e.message);
  }
  const e = await rejects(() => readInputs(opts({ workdir: file }), dir, {}), 'ERR_LAUNCH_WORKDIR');
  assert.match(e.message, /is not a directory/);
});

test('an empty --env-file path is refused, not skipped', async () => {
  for (const envFiles of [[''], [`${file},`], [',']]) {
    const e = await rejects(() => readInputs(opts({ envFiles }), dir, {}), 'ERR_LAUNCH_ENV_FILE');
    assert.match(e.message, /empty path/);
  }
  const read = await readInputs(opts({ envFiles: [file] }), dir, {});
  assert.equal([...(read.envFiles[0] ?? [])], [['A', '1']]);
});

test('--disable-cache with an unusable TMPDIR is a user error naming it', async () => {
  const e = await rejects(
    () => openImage({ image: 'oci:/nowhere', disableCache: true }, { TMPDIR: file }),
    'ERR_LAUNCH_PATH',
  );
  assert.ok(e.message.includes(file), e.message);
  assert.match(e.hint ?? '', /TMPDIR/);
});

test('as an ordinary user: paths it may not enter say permission denied', async () => {
  if (process.getuid?.() === 0) return; // root enters every directory
  const priv = path.join(dir, 'private');
  await mkdir(path.join(priv, 'sub'), { recursive: true });
  await writeFile(path.join(priv, 'env'), 'A=1\n');
  await chmod(priv, 0o600);
  try {
    for (const o of [
      { workdir: path.join(priv, 'sub') },
      { overlays: [path.join(priv, 'sub')] },
      { envFiles: [path.join(priv, 'env')] },
      { applyCgroups: path.join(priv, 'env') },
    ]) {
      const e = await readInputs(opts(o), dir, {}).then(
        () => assert.unreachable(),
        (x) => x,
      );
      assert.match(e.message, /permission denied/);
      assert.not.ok(isInternalError(e));
    }
  } finally {
    await chmod(priv, 0o700);
  }
});

test.run();
