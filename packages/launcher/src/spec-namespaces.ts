/**
 * The container's namespaces and id maps (`linux.namespaces`, `uidMappings`, `gidMappings`) and
 * its cgroup (`resources`, `cgroupsPath`). The runtime adds nothing: what is listed here is
 * what the container gets on top of the mount and IPC namespaces of the minimal spec.
 */
import type { LinuxResources, Spec } from '@berth-oci/bundle-spec';
import type { IdMapping } from '@berth-oci/idmap';

export interface NamespacesInput {
  /** `--net` (a network namespace with loopback only). */
  net: boolean;
  /** `--no-pid`: no PID namespace. */
  noPid: boolean;
  /** `--userns` as root: a user namespace mapping every id to itself. */
  rootUserns: boolean;
  /** `--uts` or `--hostname`. */
  uts: boolean;
  /**
   * The inner maps of an ordinary user's plan (outer-namespace view), given to a container
   * whose process is not root; empty otherwise.
   */
  innerUid: IdMapping[];
  innerGid: IdMapping[];
  /** The uid the process runs as. */
  uid: number;
  /** cgroup limits; the container's cgroup is then `/<id>`. */
  resources: LinuxResources | undefined;
  id: string;
}

/** Sets `spec.linux`'s namespaces, id maps and cgroup. */
export function applyNamespaces(spec: Spec, input: NamespacesInput): void {
  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  if (input.net) namespaces.push({ type: 'network' });
  if (!input.noPid) namespaces.push({ type: 'pid' });
  if (input.rootUserns) {
    // Upstream adds an unmapped user namespace, which runc refuses ("no uid mappings found")
    // and crun cannot set up; berth maps every id to itself instead.
    namespaces.push({ type: 'user' });
    linux.uidMappings = [{ containerID: 0, hostID: 0, size: 0xffffffff }];
    linux.gidMappings = [{ containerID: 0, hostID: 0, size: 0xffffffff }];
  }
  if (input.uts) namespaces.push({ type: 'uts' });
  if (input.innerUid.length > 0 && input.uid !== 0) {
    namespaces.push({ type: 'user' });
    linux.uidMappings = input.innerUid.map((m) => ({ ...m }));
    linux.gidMappings = input.innerGid.map((m) => ({ ...m }));
  }
  linux.namespaces = namespaces;
  if (input.resources) {
    linux.resources = input.resources;
    linux.cgroupsPath = `/${input.id}`;
  }
  spec.linux = linux;
}
