import type { UsernsPlan } from './identity.js';
import { unshareUserArgs } from './identity.js';

export { OVERLAY_UNSAFE } from './overlay.js';

/**
 * The script run in the container's private mount namespace (in the outer user namespace when
 * not root) just before the runtime: the writable layer (a tmpfs, or the `upper` and `work` of a
 * writable `--overlay` directory), the overlay of the read-only layers and the cached rootfs
 * onto <bundle>/rootfs, and, for crun on a hybrid-cgroup host, a tmpfs hiding the cgroup2
 * mount. Values arrive as positional parameters, never interpolated. Exit 255 on failure:
 * berth's own errors are 255.
 */
const SCRIPT = [
  'b=$1; lower=$2; w=$3; topt=$4; xopt=$5; mask=$6; shift 6',
  'fail() { echo "berth: $1" >&2; exit 255; }',
  'if [ -z "$w" ]; then',
  '  w=$b/overlay',
  '  mount -t tmpfs -o "$topt" tmpfs "$w" || fail "cannot mount the writable tmpfs"',
  '  mkdir "$w/upper" "$w/work" || fail "cannot prepare the writable layer"',
  'fi',
  'mount -t overlay -o "lowerdir=$lower,upperdir=$w/upper,workdir=$w/work$xopt" overlay "$b/rootfs" || fail "cannot mount the overlay on $b/rootfs"',
  'if [ "$mask" = 1 ]; then mount -t tmpfs -o size=4k tmpfs /sys/fs/cgroup/unified || fail "cannot hide the cgroup2 mount for crun"; fi',
  'exec "$@"',
].join('\n');

export function namespaceWrapper(options: {
  plan: UsernsPlan;
  bundle: string;
  rootfs: string;
  maskCgroup: boolean;
  /** Read-only `--overlay` layers above the rootfs, topmost first. */
  lower?: string[];
  /** A writable `--overlay` directory (with `upper` and `work`) instead of the tmpfs. */
  writable?: string;
  /** `--allow-setuid`: no `nosuid` on the writable tmpfs. */
  allowSetuid?: boolean;
}): (argv: string[]) => string[] {
  const { plan, bundle, rootfs, maskCgroup } = options;
  const xopt = plan.kind === 'root' ? '' : ',userxattr';
  const lower = [...(options.lower ?? []), rootfs].join(':');
  const tmpfsOptions = `mode=0755,size=64m,nodev${options.allowSetuid ? '' : ',nosuid'}`;
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
    lower,
    options.writable ?? '',
    tmpfsOptions,
    xopt,
    maskCgroup ? '1' : '0',
    ...argv,
  ];
}
