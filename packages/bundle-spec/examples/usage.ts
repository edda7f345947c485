import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProcess, capabilitySet, minimalSpec, writeSpec } from '@berth-oci/bundle-spec';

const bundle = await mkdtemp(join(tmpdir(), 'bundle-'));
const spec = minimalSpec(); // linux: { namespaces: [ipc, mount], resources: {} }
spec.root = { path: join(bundle, 'rootfs'), readonly: false };
spec.process = buildProcess({
  args: ['id'],
  env: ['PATH=/usr/bin:/bin', 'HOME=/home/u'],
  cwd: '/',
  uid: 1000,
  gid: 1000,
  capabilities: capabilitySet({ targetUid: 1000 }),
});
spec.linux = {
  ...spec.linux,
  namespaces: [...(spec.linux?.namespaces ?? []), { type: 'pid' }, { type: 'user' }],
  // e.g. innerMap(1000, 65536) from @berth-oci/idmap
  uidMappings: [
    { containerID: 0, hostID: 1, size: 1000 },
    { containerID: 1000, hostID: 0, size: 1 },
    { containerID: 1001, hostID: 1001, size: 64536 },
  ],
  gidMappings: [
    { containerID: 0, hostID: 1, size: 1000 },
    { containerID: 1000, hostID: 0, size: 1 },
    { containerID: 1001, hostID: 1001, size: 64536 },
  ],
};
await writeSpec(bundle, spec); // validates, writes <bundle>/config.json (0600) atomically
console.log(JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')).process.args); // [ 'id' ]
await rm(bundle, { recursive: true });
