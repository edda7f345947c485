import { userInfo } from 'node:os';
import {
  IdmapError,
  innerMap,
  outerMap,
  parseSubid,
  readSubidRange,
  selectSubidRange,
  toHost,
} from '@berth-oci/idmap';

const { username: name, uid } = userInfo();

// Your ranges in /etc/subuid and /etc/subgid (looked up by the *user*, as upstream); a user
// without one gets ERR_IDMAP_NO_ENTRY (and berth runs with a single-id map).
try {
  const uids = await readSubidRange('uid', { name, uid }); // { start: 100000, count: 65536 }
  console.log(`${name}: subuids ${uids.start}..${uids.start + uids.count - 1}`);
} catch (e) {
  if (IdmapError.isInstance(e)) console.log(`${name}: ${e.message}`);
  else throw e;
}

// The same from a file's text, for the user alice (uid 1000)
const entries = parseSubid('alice:100000:65536\n', '/etc/subuid');
const uids = selectSubidRange(entries, { name: 'alice', uid: 1000 });

// the outer namespace (newuidmap/newgidmap): host uid → 0, subuids → 1..65536
console.log(outerMap(1000, uids)); // [{containerID:0,hostID:1000,size:1},{containerID:1,hostID:100000,size:65536}]

// the container's own namespace (spec linux.uidMappings), reversing the outer one
const inner = innerMap(1000, uids.count);
console.log(inner); // [{containerID:0,hostID:1,size:1000},{containerID:1000,hostID:0,size:1},{containerID:1001,hostID:1001,size:64536}]
console.log(toHost(inner, 1000)); // 0: container uid 1000 is outer 0, i.e. the host user
