import type { UsernsPlan } from './identity.js';
import { unshareUserArgs } from './identity.js';

/**
 * The script run in the container's private mount namespace (in the outer user namespace when
 * not root) just before the runtime: a tmpfs for the writable layer, the overlay of the cached
 * rootfs onto <bundle>/rootfs, and, for crun on a hybrid-cgroup host, a tmpfs hiding the cgroup2
 * mount. Values arrive as positional parameters, never interpolated. Exit 255 on failure:
 * berth's own errors are 255.
 */
const SCRIPT = [
  'b=$1; lower=$2; mask=$3; xopt=$4; shift 4',
  'fail() { echo "berth: $1" >&2; exit 255; }',
  'mount -t tmpfs -o mode=0755,size=64m,nodev tmpfs "$b/overlay" || fail "cannot mount the writable tmpfs"',
  'mkdir "$b/overlay/upper" "$b/overlay/work" || fail "cannot prepare the writable layer"',
  'mount -t overlay -o "lowerdir=$lower,upperdir=$b/overlay/upper,workdir=$b/overlay/work$xopt" overlay "$b/rootfs" || fail "cannot mount the overlay on $b/rootfs"',
  'if [ "$mask" = 1 ]; then mount -t tmpfs -o size=4k tmpfs /sys/fs/cgroup/unified || fail "cannot hide the cgroup2 mount for crun"; fi',
  'exec "$@"',
].join('\n');

/** Characters overlayfs cannot take in a lowerdir path. */
export const OVERLAY_UNSAFE = /[,:\\\n]/;

export function namespaceWrapper(options: {
  plan: UsernsPlan;
  bundle: string;
  rootfs: string;
  maskCgroup: boolean;
}): (argv: string[]) => string[] {
  const { plan, bundle, rootfs, maskCgroup } = options;
  const xopt = plan.kind === 'root' ? '' : ',userxattr';
  return (argv) => [
    'unshare',
    ...unshareUserArgs(plan),
    '--mount',
    '--propagation',
    'private',
    '--',
    '/bin/sh',
    '-c',
    SCRIPT,
    'berth-ns',
    bundle,
    rootfs,
    maskCgroup ? '1' : '0',
    xopt,
    ...argv,
  ];
}
