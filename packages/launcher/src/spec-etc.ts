/**
 * The /etc files a launch generates into its bundle and binds read-only: resolv.conf (from
 * `--dns`, else the host's), and, unless the image names its own USER, passwd and group with
 * the user added to the image's.
 */
import path from 'node:path';
import type { Mount } from '@berth-oci/bundle-spec';
import { generateGroup, generatePasswd, readImageFile } from './etc-files.js';
import type { HostUser } from './identity.js';

export interface EtcInput {
  /** The bundle the files are written into (`<bundle>/etc/NAME`). */
  bundle: string;
  rootfs: string;
  /** `--no-mount /etc/resolv.conf` leaves the image's. */
  skipResolvConf: boolean;
  /** resolv.conf from `--dns`, else the host's (undefined when unreadable). */
  resolvConf: string | Buffer | undefined;
  fromDns: boolean;
  /** Generate passwd and group (the site's `config passwd`, `config group`; default true). */
  passwd?: boolean;
  group?: boolean;
  /** The image declares a USER: its passwd and group are left alone. */
  imageHasUser: boolean;
  user: HostUser;
  /** The host's /etc/passwd. */
  hostPasswd: string;
  uid: number;
  gid: number;
  homeDest: string;
  warn: (message: string) => void;
}

/** The files to write (bundle-relative path → content) and the mounts that bind them. */
export async function etcFiles(
  input: EtcInput,
): Promise<{ files: Map<string, string | Buffer>; mounts: Mount[] }> {
  const files = new Map<string, string | Buffer>();
  const mounts: Mount[] = [];
  const bind = (name: string, content: string | Buffer) => {
    files.set(`etc/${name}`, content);
    mounts.push({
      destination: `/etc/${name}`,
      type: 'bind',
      source: path.join(input.bundle, 'etc', name),
      options: ['bind', 'ro', 'nosuid', 'nodev'],
    });
  };
  if (!input.skipResolvConf) {
    if (input.resolvConf === undefined && !input.fromDns)
      input.warn('cannot read the host /etc/resolv.conf; the image keeps its own');
    if (input.resolvConf !== undefined) bind('resolv.conf', input.resolvConf);
  }
  if (input.imageHasUser) return { files, mounts };
  const readEtc = (file: string) =>
    readImageFile(input.rootfs, file).catch(() => {
      input.warn(
        `cannot read the image's ${file} (its permissions keep you out); leaving it as it is`,
      );
      return null;
    });
  const imagePasswd = await readEtc('/etc/passwd');
  const imageGroup = await readEtc('/etc/group');
  const { user, uid, gid } = input;
  if (input.passwd === false) {
    // the site's `config passwd = no`: the image's own
  } else if (imagePasswd === undefined) {
    input.warn('the image has no /etc/passwd; not adding your user to it');
  } else if (imagePasswd !== null) {
    bind('passwd', generatePasswd(imagePasswd, input.hostPasswd, user, uid, input.homeDest));
  }
  if (input.group !== false && imageGroup !== undefined && imageGroup !== null) {
    const name = gid === 0 ? 'root' : user.groupName;
    bind('group', generateGroup(imageGroup, name, gid, uid === 0 ? 'root' : user.name));
  }
  return { files, mounts };
}
