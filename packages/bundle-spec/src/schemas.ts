import * as v from 'valibot';

/*
 * Schemas for the parts of an OCI runtime-spec `config.json` that berth writes. Objects are
 * loose (fields berth does not know about pass through untouched, so a spec written by
 * another tool survives a read and write), but the values berth itself writes are checked
 * strictly: absolute paths where runtimes need them, id ranges, capability names.
 */

const UINT32_MAX = 0xffffffff;

const Uint32Schema = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(UINT32_MAX));
const Uint64Schema = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

/** An absolute path, as runtimes require for mount destinations, cwd and masked paths. */
export const AbsolutePathSchema = v.pipe(
  v.string(),
  v.startsWith('/', 'the path must be absolute (start with "/")'),
);

/** One entry of `mounts`. */
export const MountSchema = v.looseObject({
  destination: AbsolutePathSchema,
  type: v.optional(v.pipe(v.string(), v.minLength(1, 'a mount type must not be empty'))),
  source: v.optional(v.string()),
  options: v.optional(
    v.array(v.pipe(v.string(), v.minLength(1, 'a mount option must not be empty'))),
  ),
});
export type Mount = v.InferOutput<typeof MountSchema>;

/** One entry of `linux.uidMappings` / `linux.gidMappings`. */
export const IdMappingSchema = v.pipe(
  v.looseObject({
    containerID: Uint32Schema,
    hostID: Uint32Schema,
    size: v.pipe(Uint32Schema, v.minValue(1, 'an id mapping must map at least one id')),
  }),
  v.check(
    (m) => m.containerID + m.size - 1 <= UINT32_MAX && m.hostID + m.size - 1 <= UINT32_MAX,
    'an id mapping must end at or below 4294967295',
  ),
);
export type IdMapping = v.InferOutput<typeof IdMappingSchema>;

export const NAMESPACE_TYPES = [
  'pid',
  'network',
  'mount',
  'ipc',
  'uts',
  'user',
  'cgroup',
  'time',
] as const;
export const NamespaceTypeSchema = v.picklist(NAMESPACE_TYPES);
export type NamespaceType = v.InferOutput<typeof NamespaceTypeSchema>;

/** One entry of `linux.namespaces`: a new namespace, or one to join when `path` is set. */
export const NamespaceSchema = v.looseObject({
  type: NamespaceTypeSchema,
  path: v.optional(AbsolutePathSchema),
});
export type Namespace = v.InferOutput<typeof NamespaceSchema>;

/** `process.user`. */
export const UserSchema = v.looseObject({
  uid: Uint32Schema,
  gid: Uint32Schema,
  umask: v.optional(v.pipe(Uint32Schema, v.maxValue(0o777, 'a umask must be at most 0o777'))),
  additionalGids: v.optional(v.array(Uint32Schema)),
});
export type User = v.InferOutput<typeof UserSchema>;

/** A capability name as runtimes expect it: `CAP_` and upper case. */
export const CapabilityNameSchema = v.pipe(
  v.string(),
  v.regex(/^CAP_[A-Z0-9_]+$/, 'a capability must be named CAP_<NAME> in upper case'),
);

/** `process.capabilities`. */
export const CapabilitiesSchema = v.looseObject({
  bounding: v.optional(v.array(CapabilityNameSchema)),
  effective: v.optional(v.array(CapabilityNameSchema)),
  inheritable: v.optional(v.array(CapabilityNameSchema)),
  permitted: v.optional(v.array(CapabilityNameSchema)),
  ambient: v.optional(v.array(CapabilityNameSchema)),
});
export type Capabilities = v.InferOutput<typeof CapabilitiesSchema>;

/** One entry of `process.rlimits`. */
export const RlimitSchema = v.pipe(
  v.looseObject({
    type: v.pipe(v.string(), v.regex(/^RLIMIT_[A-Z]+$/, 'an rlimit type must be RLIMIT_<NAME>')),
    soft: Uint64Schema,
    hard: Uint64Schema,
  }),
  v.check((r) => r.soft <= r.hard, 'an rlimit soft value must not exceed its hard value'),
);
export type Rlimit = v.InferOutput<typeof RlimitSchema>;

/** An environment entry: `NAME=value` with a non-empty name. */
export const EnvEntrySchema = v.pipe(
  v.string(),
  v.regex(/^[^=]+=/, 'an environment entry must be NAME=value'),
);

/** `process.consoleSize`: the terminal size the runtime gives the container's pty. */
export const ConsoleSizeSchema = v.object({
  height: v.pipe(v.number(), v.integer(), v.minValue(0)),
  width: v.pipe(v.number(), v.integer(), v.minValue(0)),
});
export type ConsoleSize = v.InferOutput<typeof ConsoleSizeSchema>;

/** `process`. */
export const ProcessSchema = v.looseObject({
  terminal: v.optional(v.boolean()),
  consoleSize: v.optional(ConsoleSizeSchema),
  user: UserSchema,
  args: v.pipe(
    v.array(v.string()),
    v.minLength(1, 'process args must hold at least the program'),
    v.check((a) => a[0] !== '', 'the program (args[0]) must not be empty'),
  ),
  env: v.optional(v.array(EnvEntrySchema)),
  cwd: AbsolutePathSchema,
  capabilities: v.optional(CapabilitiesSchema),
  noNewPrivileges: v.optional(v.boolean()),
  rlimits: v.optional(v.array(RlimitSchema)),
});
export type Process = v.InferOutput<typeof ProcessSchema>;

/** `root`. */
export const RootSchema = v.looseObject({
  path: v.pipe(v.string(), v.minLength(1, 'the root path must not be empty')),
  readonly: v.optional(v.boolean()),
});
export type Root = v.InferOutput<typeof RootSchema>;

// Limits may be as large as the int64/uint64 maxima (JSON numbers beyond 2^53 stay integers).
const Int64Schema = v.pipe(v.number(), v.integer());
const ResUint64Schema = v.pipe(v.number(), v.integer(), v.minValue(0));
const Uint16Schema = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffff));

/** One entry of `linux.devices`: a device node the runtime creates (or binds, rootless). */
export const LinuxDeviceSchema = v.looseObject({
  path: AbsolutePathSchema,
  type: v.picklist(['c', 'b', 'u', 'p'], 'a device type must be c, b, u or p'),
  major: v.optional(Int64Schema),
  minor: v.optional(Int64Schema),
  fileMode: v.optional(Uint32Schema),
  uid: v.optional(Uint32Schema),
  gid: v.optional(Uint32Schema),
});
export type LinuxDevice = v.InferOutput<typeof LinuxDeviceSchema>;

/** One rule of `linux.resources.devices` (the device cgroup). */
export const DeviceCgroupSchema = v.looseObject({
  allow: v.boolean(),
  type: v.optional(v.picklist(['a', 'b', 'c'], 'a device rule type must be a, b or c')),
  major: v.optional(Int64Schema),
  minor: v.optional(Int64Schema),
  access: v.optional(
    v.pipe(v.string(), v.regex(/^[rwm]{1,3}$/, 'device access must be made of r, w, m')),
  ),
});
export type DeviceCgroup = v.InferOutput<typeof DeviceCgroupSchema>;

const WeightSchema = v.pipe(Uint16Schema, v.minValue(10), v.maxValue(1000));
const BlockIODeviceSchema = { major: Int64Schema, minor: Int64Schema };
const ThrottleSchema = v.looseObject({ ...BlockIODeviceSchema, rate: v.optional(ResUint64Schema) });

/** `linux.resources`: cgroup limits (the runtime-spec's LinuxResources). */
export const LinuxResourcesSchema = v.looseObject({
  devices: v.optional(v.array(DeviceCgroupSchema)),
  memory: v.optional(
    v.looseObject({
      limit: v.optional(Int64Schema),
      reservation: v.optional(Int64Schema),
      swap: v.optional(Int64Schema),
      kernel: v.optional(Int64Schema),
      kernelTCP: v.optional(Int64Schema),
      swappiness: v.optional(v.pipe(ResUint64Schema, v.maxValue(100))),
      disableOOMKiller: v.optional(v.boolean()),
      useHierarchy: v.optional(v.boolean()),
    }),
  ),
  cpu: v.optional(
    v.looseObject({
      shares: v.optional(ResUint64Schema),
      quota: v.optional(Int64Schema),
      period: v.optional(ResUint64Schema),
      burst: v.optional(ResUint64Schema),
      realtimeRuntime: v.optional(Int64Schema),
      realtimePeriod: v.optional(ResUint64Schema),
      cpus: v.optional(v.string()),
      mems: v.optional(v.string()),
      idle: v.optional(Int64Schema),
    }),
  ),
  pids: v.optional(v.looseObject({ limit: Int64Schema })),
  blockIO: v.optional(
    v.looseObject({
      weight: v.optional(WeightSchema),
      leafWeight: v.optional(WeightSchema),
      weightDevice: v.optional(
        v.array(
          v.looseObject({
            ...BlockIODeviceSchema,
            weight: v.optional(WeightSchema),
            leafWeight: v.optional(WeightSchema),
          }),
        ),
      ),
      throttleReadBpsDevice: v.optional(v.array(ThrottleSchema)),
      throttleWriteBpsDevice: v.optional(v.array(ThrottleSchema)),
      throttleReadIOPSDevice: v.optional(v.array(ThrottleSchema)),
      throttleWriteIOPSDevice: v.optional(v.array(ThrottleSchema)),
    }),
  ),
  hugepageLimits: v.optional(
    v.array(
      v.looseObject({
        pageSize: v.pipe(v.string(), v.regex(/^[1-9][0-9]*[KMG]B$/, 'a page size looks like 2MB')),
        limit: ResUint64Schema,
      }),
    ),
  ),
  network: v.optional(
    v.looseObject({
      classID: v.optional(Uint32Schema),
      priorities: v.optional(v.array(v.looseObject({ name: v.string(), priority: Uint32Schema }))),
    }),
  ),
  rdma: v.optional(
    v.record(
      v.string(),
      v.looseObject({ hcaHandles: v.optional(Uint32Schema), hcaObjects: v.optional(Uint32Schema) }),
    ),
  ),
  unified: v.optional(v.record(v.string(), v.string())),
});
export type LinuxResources = v.InferOutput<typeof LinuxResourcesSchema>;

/** One hook (`hooks.createContainer[]` etc.): a host program the runtime runs. */
export const HookSchema = v.looseObject({
  path: AbsolutePathSchema,
  args: v.optional(v.array(v.string())),
  env: v.optional(v.array(EnvEntrySchema)),
  timeout: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});
export type Hook = v.InferOutput<typeof HookSchema>;

export const HOOK_NAMES = [
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
] as const;

/** `hooks`. */
export const HooksSchema = v.looseObject(
  Object.fromEntries(HOOK_NAMES.map((n) => [n, v.optional(v.array(HookSchema))])) as Record<
    (typeof HOOK_NAMES)[number],
    v.OptionalSchema<v.ArraySchema<typeof HookSchema, undefined>, undefined>
  >,
);
export type Hooks = v.InferOutput<typeof HooksSchema>;

function hasNamespace(namespaces: Namespace[] | undefined, type: NamespaceType): boolean {
  return namespaces?.some((n) => n.type === type) ?? false;
}

/** `linux`. */
export const LinuxSchema = v.pipe(
  v.looseObject({
    namespaces: v.optional(
      v.pipe(
        v.array(NamespaceSchema),
        v.check(
          (ns) => new Set(ns.map((n) => n.type)).size === ns.length,
          'each namespace type may appear only once',
        ),
      ),
    ),
    uidMappings: v.optional(v.array(IdMappingSchema)),
    gidMappings: v.optional(v.array(IdMappingSchema)),
    devices: v.optional(v.array(LinuxDeviceSchema)),
    resources: v.optional(LinuxResourcesSchema),
    cgroupsPath: v.optional(v.string()),
    maskedPaths: v.optional(v.array(AbsolutePathSchema)),
    readonlyPaths: v.optional(v.array(AbsolutePathSchema)),
    sysctl: v.optional(v.record(v.string(), v.string())),
  }),
  v.check(
    (l) =>
      (l.uidMappings?.length ?? 0) + (l.gidMappings?.length ?? 0) === 0 ||
      hasNamespace(l.namespaces, 'user'),
    'uid or gid mappings need a user namespace in linux.namespaces',
  ),
);
export type Linux = v.InferOutput<typeof LinuxSchema>;

/** `ociVersion`: a SemVer 2.0 version. */
export const OciVersionSchema = v.pipe(
  v.string(),
  v.regex(
    /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/,
    'ociVersion must be a SemVer version such as 1.0.2',
  ),
);

/** A whole `config.json` as berth writes it (process and root are required here). */
export const SpecSchema = v.pipe(
  v.looseObject({
    ociVersion: OciVersionSchema,
    process: ProcessSchema,
    root: RootSchema,
    hostname: v.optional(v.string()),
    mounts: v.optional(v.array(MountSchema)),
    annotations: v.optional(
      v.record(
        v.pipe(v.string(), v.minLength(1, 'an annotation key must not be empty')),
        v.string(),
      ),
    ),
    linux: v.optional(LinuxSchema),
    hooks: v.optional(HooksSchema),
  }),
  v.check(
    (s) => !s.hostname || hasNamespace(s.linux?.namespaces, 'uts'),
    'a hostname needs a uts namespace in linux.namespaces',
  ),
);
export type Spec = v.InferOutput<typeof SpecSchema>;
