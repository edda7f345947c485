import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findPasswdUser, generateGroup, generatePasswd, readImageFile } from '../src/etc-files.js';
import type { HostUser } from '../src/identity.js';

const user: HostUser = {
  uid: 1000,
  gid: 1000,
  name: 'u',
  home: '/home/u',
  shell: '/bin/bash',
  groupName: 'ug',
};
const hostPasswd = 'root:x:0:0:root:/root:/bin/bash\nu:x:1000:1000:U Ser:/home/u:/bin/bash\n';

test('generatePasswd appends the host entry with the container home', () => {
  const out = generatePasswd('root:x:0:0:root:/root:/bin/sh\n', hostPasswd, user, 1000, '/home/u');
  assert.is(out, 'root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000:U Ser:/home/u:/bin/bash\n');
});

test('generatePasswd replaces an existing uid but keeps the image shell', () => {
  const out = generatePasswd(
    'root:x:0:0:root:/root:/bin/ash\nold:x:1000:5:o:/x:/bin/zsh',
    hostPasswd,
    user,
    1000,
    '/home/u',
  );
  assert.is(out, 'root:x:0:0:root:/root:/bin/ash\nu:x:1000:1000:U Ser:/home/u:/bin/zsh\n');
});

test('generatePasswd for fakeroot rebuilds root with home /root and the image shell', () => {
  const out = generatePasswd('root:x:0:0:toor:/var/root:/bin/ash\n', hostPasswd, user, 0, '/root');
  assert.is(out, 'root:x:0:0:root:/root:/bin/ash\n');
});

test('generateGroup appends the primary group', () => {
  assert.is(generateGroup('root:x:0:', 'ug', 1000, 'u'), 'root:x:0:\nug:x:1000:u\n');
});

test('findPasswdUser by name and by uid', () => {
  const p = 'root:x:0:0::/root:/bin/sh\nalice:x:1234:99::/home/alice:/bin/sh\n';
  assert.is(findPasswdUser(p, 'alice')?.uid, 1234);
  assert.is(findPasswdUser(p, '1234')?.gid, 99);
  assert.is(findPasswdUser(p, 'bob'), undefined);
});

test('readImageFile resolves symlinks inside the rootfs, never outside', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rif-'));
  const rootfs = path.join(dir, 'rootfs');
  await mkdir(path.join(rootfs, 'etc'), { recursive: true });
  await writeFile(path.join(dir, 'secret'), 'host secret');
  await writeFile(path.join(rootfs, 'secret'), 'image file');
  await symlink('/secret', path.join(rootfs, 'etc', 'abs'));
  await symlink('../../../secret', path.join(rootfs, 'etc', 'rel'));
  await symlink('loop', path.join(rootfs, 'etc', 'loop'));
  assert.is(await readImageFile(rootfs, '/etc/abs'), 'image file');
  assert.is(await readImageFile(rootfs, '/etc/rel'), 'image file');
  assert.is(await readImageFile(rootfs, '/etc/loop'), undefined);
  assert.is(await readImageFile(rootfs, '/etc/missing'), undefined);
  assert.is(await readImageFile(rootfs, '/etc'), undefined);
});

test.run();
