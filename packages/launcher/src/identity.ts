import { readFile } from 'node:fs/promises';
import os from 'node:os';
import {
  type IdMapping,
  innerMap,
  outerMap,
  readSubidRange,
  type SubidRange,
  singleMap,
  toHost,
} from '@berth-oci/idmap';

/** The host user berth runs for. */
export interface HostUser {
  uid: number;
  gid: number;
  name: string;
  home: string;
  shell: string;
  /** Name of the primary group on the host (falls back to the user name). */
  groupName: string;
}

export async function hostUser(): Promise<HostUser> {
  const info = os.userInfo();
  const gid = process.getgid?.() ?? info.gid;
  let groupName = info.username;
  try {
    const groups = await readFile('/etc/group', 'utf8');
    for (const line of groups.split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === gid) {
        groupName = name;
        break;
      }
    }
  } catch {
    // no /etc/group: keep the user name
  }
  return {
    uid: process.getuid?.() ?? info.uid,
    gid,
    name: info.username,
    home: info.homedir,
    shell: info.shell || '/bin/sh',
    groupName,
  };
}

/**
 * How a launch uses user namespaces, and how image files must be owned for it.
 * - `root`: berth runs as host root; no user namespace; image owners kept as they are.
 * - `subid`: an outer namespace maps the user to 0 and the subordinate ids to 1..N; without
 *   `--fakeroot` the container gets an inner namespace reversing it (docs/launch.md, the two id maps).
 * - `single`: no subordinate ids; the outer namespace maps only the user; every file is the user's.
 */
export interface UsernsPlan {
  kind: 'root' | 'subid' | 'single';
  /** Outer maps (host view), for `unshare`; empty for root. */
  outerUid: IdMapping[];
  outerGid: IdMapping[];
  /** The spec's maps (outer-namespace view); empty when the container gets no user namespace. */
  innerUid: IdMapping[];
  innerGid: IdMapping[];
  /** The container process's uid and gid. */
  uid: number;
  gid: number;
  /** Key of the unpacked-rootfs cache entry this ownership scheme needs. */
  cacheVariant: string;
  /**
   * Image uid/gid → the owner to give the unpacked file, as seen where the unpacker runs
   * (host for root, the outer namespace otherwise); null when files are not chowned at all.
   */
  ownerMaps: { uid: IdMapping[]; gid: IdMapping[] } | null;
}

const identity = (size: number): IdMapping[] => [{ containerID: 0, hostID: 0, size }];

/** Plans the namespaces for `user`; `onWarning` hears about the fallback to a single mapping. */
export async function planUserns(
  user: HostUser,
  fakeroot: boolean,
  onWarning?: (message: string) => void,
): Promise<UsernsPlan> {
  if (user.uid === 0) {
    return {
      kind: 'root',
      outerUid: [],
      outerGid: [],
      innerUid: [],
      innerGid: [],
      uid: 0,
      gid: fakeroot ? 0 : user.gid,
      cacheVariant: 'root',
      ownerMaps: { uid: identity(2 ** 32 - 1), gid: identity(2 ** 32 - 1) },
    };
  }
  let uidRange: SubidRange | undefined;
  let gidRange: SubidRange | undefined;
  try {
    const who = { name: user.name, uid: user.uid };
    uidRange = await readSubidRange('uid', who);
    gidRange = await readSubidRange('gid', who);
  } catch (e) {
    onWarning?.(
      `${(e as Error).message}; running with a single id mapping: every file in the container belongs to you`,
    );
  }
  if (!uidRange || !gidRange) {
    return {
      kind: 'single',
      outerUid: singleMap(user.uid),
      outerGid: singleMap(user.gid),
      innerUid: fakeroot ? [] : [{ containerID: user.uid, hostID: 0, size: 1 }],
      innerGid: fakeroot ? [] : [{ containerID: user.gid, hostID: 0, size: 1 }],
      uid: fakeroot ? 0 : user.uid,
      gid: fakeroot ? 0 : user.gid,
      cacheVariant: 'single',
      ownerMaps: null,
    };
  }
  if (fakeroot) {
    return {
      kind: 'subid',
      outerUid: outerMap(user.uid, uidRange),
      outerGid: outerMap(user.gid, gidRange),
      innerUid: [],
      innerGid: [],
      uid: 0,
      gid: 0,
      cacheVariant: `fakeroot-${uidRange.count}-${gidRange.count}`,
      ownerMaps: { uid: identity(uidRange.count + 1), gid: identity(gidRange.count + 1) },
    };
  }
  const innerUid = innerMap(user.uid, uidRange.count);
  const innerGid = innerMap(user.gid, gidRange.count);
  return {
    kind: 'subid',
    outerUid: outerMap(user.uid, uidRange),
    outerGid: outerMap(user.gid, gidRange),
    innerUid,
    innerGid,
    uid: user.uid,
    gid: user.gid,
    cacheVariant: `user-${user.uid}-${user.gid}-${uidRange.count}-${gidRange.count}`,
    ownerMaps: { uid: innerUid, gid: innerGid },
  };
}

/**
 * The owner function for the unpacker: image ids through `maps`; ids the maps do not cover go to
 * the owner of the image's root (id 0), so nothing ends up owned by an id outside the namespace.
 */
export function ownerFunction(maps: {
  uid: IdMapping[];
  gid: IdMapping[];
}): (uid: number, gid: number) => [number, number] {
  const rootUid = toHost(maps.uid, 0) ?? 0;
  const rootGid = toHost(maps.gid, 0) ?? 0;
  return (uid, gid) => [toHost(maps.uid, uid) ?? rootUid, toHost(maps.gid, gid) ?? rootGid];
}

/** `unshare` arguments that create the outer namespace of `plan` (none for root). */
export function unshareUserArgs(plan: UsernsPlan): string[] {
  if (plan.kind === 'root') return [];
  const args = ['--map-root-user'];
  const sub = (maps: IdMapping[]) => maps.find((m) => m.containerID !== 0);
  const u = sub(plan.outerUid);
  const g = sub(plan.outerGid);
  if (u) args.push(`--map-users=${u.hostID},${u.containerID},${u.size}`);
  if (g) args.push(`--map-groups=${g.hostID},${g.containerID},${g.size}`);
  return args;
}
