import { parseOptions } from '@berth-oci/errors';
import * as v from 'valibot';
import { BundleSpecError } from './errors.js';
import {
  AbsolutePathSchema,
  CapabilitiesSchema,
  ConsoleSizeSchema,
  EnvEntrySchema,
  type Process,
  type Spec,
} from './schemas.js';

/** The runtime-spec version berth writes; runc 1.1.5 and crun 1.8.1 accept it. */
export const OCI_VERSION = '1.0.2';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The base spec SingularityCE's `--oci` mode starts from (docs/singularity-compat.md, "The
 * base spec"): root `rootfs` (writable), a placeholder process (to be
 * replaced with `buildProcess`), no mounts, new ipc and mount namespaces, and
 * `linux.resources` always `{}` (crun crashes on a null one). A fresh object each call.
 */
export function minimalSpec(): Spec {
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: [DEFAULT_PATH],
      cwd: '/',
    },
    root: { path: 'rootfs', readonly: false },
    mounts: [],
    linux: {
      namespaces: [{ type: 'ipc' }, { type: 'mount' }],
      resources: {},
    },
  };
}

const IdSchema = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff));

export const BuildProcessOptionsSchema = v.strictObject({
  /** The program and its arguments. */
  args: v.pipe(
    v.array(v.string()),
    v.minLength(1, 'args must hold at least the program'),
    v.check((a) => a[0] !== '', 'the program (args[0]) must not be empty'),
  ),
  /** `NAME=value` entries. */
  env: v.array(EnvEntrySchema),
  /** The working directory inside the container. */
  cwd: AbsolutePathSchema,
  uid: IdSchema,
  gid: IdSchema,
  /** Allocate a terminal; default false. */
  terminal: v.optional(v.boolean(), false),
  /** Initial terminal size (with `terminal`). */
  consoleSize: v.optional(ConsoleSizeSchema),
  capabilities: v.optional(CapabilitiesSchema),
  noNewPrivileges: v.optional(v.boolean()),
  umask: v.optional(v.pipe(IdSchema, v.maxValue(0o777, 'a umask must be at most 0o777'))),
  additionalGids: v.optional(v.array(IdSchema)),
});
export type BuildProcessOptions = v.InferInput<typeof BuildProcessOptionsSchema>;

/** The spec's `process`; optional fields are present only when given. */
export function buildProcess(options: BuildProcessOptions): Process {
  const o = parseOptions(
    BuildProcessOptionsSchema,
    options,
    'buildProcess options',
    BundleSpecError,
  );
  const user: Process['user'] = { uid: o.uid, gid: o.gid };
  if (o.umask !== undefined) user.umask = o.umask;
  if (o.additionalGids !== undefined) user.additionalGids = [...o.additionalGids];
  const process: Process = {
    terminal: o.terminal,
    user,
    args: [...o.args],
    env: [...o.env],
    cwd: o.cwd,
  };
  if (o.consoleSize !== undefined) process.consoleSize = { ...o.consoleSize };
  if (o.capabilities !== undefined) process.capabilities = o.capabilities;
  if (o.noNewPrivileges !== undefined) process.noNewPrivileges = o.noNewPrivileges;
  return process;
}
