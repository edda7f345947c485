import type { Mount } from '@berth-oci/bundle-spec';
import { bindMounts, defaultMounts, parseBindSpecs } from '@berth-oci/mounts';

// --bind /etc:/host-etc:ro --bind .:/work (sources must exist; relative ones are taken
// against cwd)
const binds = parseBindSpecs(['/etc:/host-etc:ro', '.:/work']);
const mounts: Mount[] = [
  ...defaultMounts({ hostRoot: false, homeDest: '/home/u', homeUid: 1000, homeGid: 1000 }),
  ...(await bindMounts(binds, { cwd: process.cwd() })),
];
// mounts goes into a spec's `mounts` as it is
for (const m of mounts) console.log(m.destination, m.type ?? '', m.source ?? '');
