/**
 * Injecting CDI devices into a runtime spec: each device's and spec's container edits (env,
 * device nodes, mounts, hooks, groups), as the CDI library applies them.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Hook, Mount, Spec } from '@berth-oci/bundle-spec';
import {
  DEFAULT_CDI_DIRS,
  type Edits,
  type LoadedSpec,
  loadCdiSpecs,
  parseCdiName,
} from './cdi-specs.js';
import { deviceNumbers } from './cgroups.js';
import { LaunchError } from './errors.js';

function setEnv(env: string[], entry: string): void {
  const key = entry.slice(0, entry.indexOf('='));
  const i = env.findIndex((e) => e.slice(0, e.indexOf('=')) === key);
  if (i >= 0) env[i] = entry;
  else env.push(entry);
}

const depth = (p: string) => path.posix.normalize(p).split('/').filter(Boolean).length;

/** Sorts mounts as the CDI library does after adding any: by depth, then by destination. */
export function sortMounts(mounts: Mount[]): Mount[] {
  return [...mounts].sort((a, b) => {
    const d = depth(a.destination) - depth(b.destination);
    if (d !== 0) return d;
    return a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0;
  });
}

async function fillDevice(
  node: NonNullable<Edits['deviceNodes']>[number],
): Promise<{ type: 'b' | 'c' | 'u' | 'p'; major?: number; minor?: number; fileMode?: number }> {
  const hostPath = node.hostPath || node.path;
  const type = node.type || undefined;
  if (type !== undefined && (type === 'p' || (node.major ?? 0) !== 0)) {
    return { type, major: node.major, minor: node.minor, fileMode: node.fileMode };
  }
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(hostPath);
  } catch (cause) {
    throw new LaunchError(
      'ERR_LAUNCH_CDI',
      `while setting up CDI devices: failed to stat CDI host device "${hostPath}"`,
      { hint: 'the CDI spec names a device this host does not have', cause },
    );
  }
  const hostType = st.isBlockDevice()
    ? 'b'
    : st.isCharacterDevice()
      ? 'c'
      : st.isFIFO()
        ? 'p'
        : undefined;
  if (hostType === undefined) {
    throw new LaunchError(
      'ERR_LAUNCH_CDI',
      `while setting up CDI devices: CDI device "${hostPath}" is not a device node`,
      { hint: 'fix the CDI spec' },
    );
  }
  if (type !== undefined && type !== hostType && !(type === 'u' && hostType === 'c')) {
    throw new LaunchError(
      'ERR_LAUNCH_CDI',
      `while setting up CDI devices: CDI device ("${node.path}", "${hostPath}"), host type mismatch`,
      { hint: 'fix the type in the CDI spec' },
    );
  }
  const { major, minor } = deviceNumbers(Number(st.rdev));
  return {
    type: type ?? hostType,
    major: hostType === 'p' ? undefined : major,
    minor: hostType === 'p' ? undefined : minor,
    fileMode: node.fileMode ?? st.mode & 0o777,
  };
}

/**
 * Injects CDI devices into `spec` (after its process is set), as upstream does with the CDI
 * library: each `vendor/class=name` must be a qualified name and be defined by a spec file in
 * `dirs`; the spec-wide edits (once per spec file) and each device's edits add environment
 * variables (replacing), device nodes (with a device-cgroup allow rule, owned by the process
 * user when it is not root), mounts (then all mounts are sorted by depth), hooks and additional
 * gids. With `rootless` (the runtime runs in a user namespace and cannot create device nodes),
 * a node whose host path differs from its container path becomes a bind of the host node.
 * Throws `ERR_LAUNCH_CDI`.
 */
export async function injectCdiDevices(
  spec: Spec,
  devices: string[],
  dirs: string[] = DEFAULT_CDI_DIRS,
  options: { rootless?: boolean } = {},
): Promise<void> {
  const wanted: string[] = [];
  for (const item of devices.flatMap((d) => d.split(','))) {
    const name = item.trim();
    if (name === '') continue;
    if (!parseCdiName(name)) {
      throw new LaunchError(
        'ERR_LAUNCH_CDI',
        `string ${JSON.stringify(name)} does not represent a valid CDI device`,
        { hint: 'name a device as vendor.com/class=name' },
      );
    }
    if (!wanted.includes(name)) wanted.push(name);
  }
  if (wanted.length === 0) return;
  const { specs, errors } = await loadCdiSpecs(dirs);
  // later directories and files win, as in the CDI cache
  const byName = new Map<string, { spec: LoadedSpec; edits: Edits }>();
  for (const s of specs) {
    for (const d of s.spec.devices)
      byName.set(`${s.spec.kind}=${d.name}`, { spec: s, edits: d.containerEdits });
  }
  const missing = wanted.filter((n) => !byName.has(n));
  if (missing.length > 0) {
    throw new LaunchError(
      'ERR_LAUNCH_CDI',
      `while setting up CDI devices: unresolvable CDI devices ${missing.join(', ')}`,
      {
        hint:
          errors.length > 0
            ? `spec files that could not be used: ${errors.join('; ')}`
            : `no CDI spec in ${dirs.join(', ')} defines it; see --cdi-dirs`,
      },
    );
  }
  const edits: Edits[] = [];
  const seenSpecs = new Set<string>();
  for (const n of wanted) {
    const found = byName.get(n) as { spec: LoadedSpec; edits: Edits };
    if (!seenSpecs.has(found.spec.file)) {
      seenSpecs.add(found.spec.file);
      if (found.spec.spec.containerEdits) edits.push(found.spec.spec.containerEdits);
    }
    edits.push(found.edits);
  }

  const proc = spec.process;
  spec.linux ??= {};
  const linux = spec.linux;
  let mountsAdded = false;
  for (const e of edits) {
    proc.env ??= [];
    for (const entry of e.env ?? []) setEnv(proc.env, entry);
    for (const node of e.deviceNodes ?? []) {
      const info = await fillDevice(node);
      const hostPath = node.hostPath || node.path;
      if (options.rootless && hostPath !== node.path) {
        // Rootless runtimes cannot create device nodes: they bind the host node found at the
        // same path. A node from another host path is bound from there instead.
        spec.mounts = [
          ...(spec.mounts ?? []).filter((x) => x.destination !== node.path),
          { destination: node.path, type: 'bind', source: hostPath, options: ['bind', 'nosuid'] },
        ];
        mountsAdded = true;
        continue;
      }
      const dev: NonNullable<typeof linux.devices>[number] = { path: node.path, type: info.type };
      if (info.major !== undefined) dev.major = info.major;
      if (info.minor !== undefined) dev.minor = info.minor;
      if (info.fileMode !== undefined) dev.fileMode = info.fileMode;
      const uid = node.uid ?? (proc.user.uid > 0 ? proc.user.uid : undefined);
      const gid = node.gid ?? (proc.user.gid > 0 ? proc.user.gid : undefined);
      if (uid !== undefined) dev.uid = uid;
      if (gid !== undefined) dev.gid = gid;
      linux.devices = [...(linux.devices ?? []).filter((d) => d.path !== dev.path), dev];
      if (dev.type === 'b' || dev.type === 'c') {
        linux.resources ??= {};
        const resources = linux.resources;
        resources.devices = [
          ...(resources.devices ?? []),
          {
            allow: true,
            type: dev.type,
            major: dev.major,
            minor: dev.minor,
            access: node.permissions || 'rwm',
          },
        ];
      }
    }
    for (const m of e.mounts ?? []) {
      const mount: Mount = { destination: m.containerPath, source: m.hostPath };
      if (m.type) mount.type = m.type;
      if (m.options) mount.options = [...m.options];
      spec.mounts = [
        ...(spec.mounts ?? []).filter((x) => x.destination !== m.containerPath),
        mount,
      ];
      mountsAdded = true;
    }
    for (const h of e.hooks ?? []) {
      const hook: Hook = { path: h.path };
      if (h.args) hook.args = h.args;
      if (h.env) hook.env = h.env;
      if (h.timeout !== undefined) hook.timeout = h.timeout;
      spec.hooks ??= {};
      const hooks = spec.hooks;
      hooks[h.hookName] = [...(hooks[h.hookName] ?? []), hook];
    }
    if (e.additionalGids && e.additionalGids.length > 0) {
      const gids = proc.user.additionalGids ?? [];
      for (const g of e.additionalGids) if (g !== 0 && !gids.includes(g)) gids.push(g);
      proc.user.additionalGids = gids;
    }
  }
  if (mountsAdded) spec.mounts = sortMounts(spec.mounts ?? []);
}
