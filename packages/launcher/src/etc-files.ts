import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HostUser } from './identity.js';
import { resolveInImage } from './image-path.js';

/**
 * Reads a file of the image by its in-container path, resolving symlinks as the container would
 * (absolute targets start at the rootfs, `..` stops at it), so an image cannot make berth read a
 * host file. Returns undefined when the file does not exist; throws EACCES when the image's
 * own permissions keep the caller out.
 */
export async function readImageFile(rootfs: string, file: string): Promise<string | undefined> {
  const resolved = await resolveInImage(rootfs, file);
  if (resolved === undefined) return undefined;
  const host = path.join(rootfs, resolved);
  try {
    if (!(await lstat(host)).isFile()) return undefined;
    return await readFile(host, 'utf8');
  } catch (e) {
    // a tree owned by subordinate ids may keep the user out: say so rather than "missing"
    if ((e as NodeJS.ErrnoException).code === 'EACCES') throw e;
    return undefined;
  }
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

function parsePasswdLine(line: string): PasswdEntry | undefined {
  const f = line.split(':');
  if (f.length < 7 || !f[0]) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
  return { name: f[0], uid, gid, gecos: f[4] ?? '', home: f[5] ?? '', shell: f[6] ?? '' };
}

/** Looks a user up by uid in a passwd document. */
export function findPasswdUid(passwd: string, uid: number): PasswdEntry | undefined {
  for (const line of passwd.split('\n')) {
    const e = parsePasswdLine(line);
    if (e && e.uid === uid) return e;
  }
  return undefined;
}

/** Looks a user up by name, or by uid when `user` is numeric (image `USER`). */
export function findPasswdUser(passwd: string, user: string): PasswdEntry | undefined {
  if (/^\d+$/.test(user)) return findPasswdUid(passwd, Number(user));
  for (const line of passwd.split('\n')) {
    const e = parsePasswdLine(line);
    if (e && e.name === user) return e;
  }
  return undefined;
}

/**
 * The container's /etc/passwd with the running user's entry (docs/singularity-compat.md): the host entry of
 * `uid` with home `homeDest`; if the image already has that uid, its line is replaced but keeps
 * the image's shell.
 */
export function generatePasswd(
  imagePasswd: string,
  hostPasswd: string,
  user: HostUser,
  uid: number,
  homeDest: string,
): string {
  const host = findPasswdUid(hostPasswd, uid) ?? {
    name: uid === 0 ? 'root' : user.name,
    uid,
    gid: uid === 0 ? 0 : user.gid,
    gecos: uid === 0 ? 'root' : user.name,
    home: homeDest,
    shell: uid === 0 ? '/bin/sh' : user.shell,
  };
  const lines = imagePasswd.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let replaced = false;
  const out = lines.map((line) => {
    const e = parsePasswdLine(line);
    if (!e || e.uid !== uid) return line;
    replaced = true;
    return [host.name, 'x', uid, host.gid, host.gecos, homeDest, e.shell].join(':');
  });
  if (!replaced)
    out.push([host.name, 'x', uid, host.gid, host.gecos, homeDest, host.shell].join(':'));
  return `${out.join('\n')}\n`;
}

/** The container's /etc/group with the running user's primary group appended (docs/singularity-compat.md). */
export function generateGroup(
  imageGroup: string,
  groupName: string,
  gid: number,
  userName: string,
): string {
  const body = imageGroup === '' || imageGroup.endsWith('\n') ? imageGroup : `${imageGroup}\n`;
  return `${body}${groupName}:x:${gid}:${userName}\n`;
}
