import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { helperEntries } from '../helper-entries.js';

const run = promisify(execFile);
const CLI_DIR = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(CLI_DIR, 'dist');

test('the bundled packages declare their helper entries', () => {
  const helpers = helperEntries(CLI_DIR);
  const names = helpers.map((h) => `${h.pkg} ${h.name}`);
  assert.ok(names.includes('@berth-oci/conmon-create log-convert'), names.join(', '));
  assert.ok(names.includes('@berth-oci/launcher unpack-worker'), names.join(', '));
  for (const h of helpers) assert.ok(existsSync(h.file), `${h.pkg} does not build ${h.file}`);
});

test("every declared helper is in the CLI's dist, next to the bundle's chunks", () => {
  assert.ok(existsSync(path.join(DIST, 'cli.js')), 'build the CLI first');
  for (const h of helperEntries(CLI_DIR)) {
    assert.ok(
      existsSync(path.join(DIST, `${h.name}.js`)),
      `${h.name}.js (a helper of ${h.pkg}) is missing from ${DIST}`,
    );
  }
});

test('the bundled log converter runs', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'helper-'));
  await writeFile(path.join(dir, 'k8s.log'), 't1 stdout F hello\n');
  await run(process.execPath, [
    path.join(DIST, 'log-convert.js'),
    path.join(dir, 'k8s.log'),
    path.join(dir, 'log.json'),
  ]);
  assert.equal(JSON.parse(await readFile(path.join(dir, 'log.json'), 'utf8')), {
    log: 'hello\n',
    stream: 'stdout',
    time: 't1',
  });
});

test('helperEntries refuses one name declared by two packages', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'helpers-'));
  const pkg = async (dir: string, json: object) => {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'package.json'), JSON.stringify(json));
  };
  await pkg(path.join(root, 'node_modules', '@berth-oci', 'a'), {
    name: '@berth-oci/a',
    berth: { helpers: ['w'] },
  });
  await pkg(root, {
    name: 'top',
    dependencies: { '@berth-oci/a': '*' },
    berth: { helpers: ['w'] },
  });
  assert.throws(() => helperEntries(root), /"w" is declared by both/);
});

test.run();
