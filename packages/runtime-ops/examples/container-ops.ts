// Needs: root (an ordinary user passes `userArgs`, the unshare maps of the namespace holder),
// crun or runc, and a running container of berth's store whose id is the first argument
// (`berth oci create -b BUNDLE c1` then `berth oci start c1` make one).
import {
  ContainerStore,
  execInContainer,
  killContainer,
  openContainer,
  removeContainer,
  requireStatus,
  toOciState,
} from '@berth-oci/runtime-ops';

const id = process.argv[2] ?? 'c1';
const store = await ContainerStore.open();
const c1 = await openContainer(store, id); // ERR_RUNTIME_NO_CONTAINER when unknown
const state = await requireStatus(c1, ['running'], 'exec in'); // else: it is created/stopped/...
console.log(JSON.stringify(toOciState(state))); // the OCI state document
const { exitCode } = await execInContainer(c1.ctx, id, ['sh', '-c', 'exit 7']);
console.log(`exec exit status ${exitCode}`); // 7
await killContainer(c1.ctx, id, 'KILL');
await removeContainer(c1, { force: true }); // the runtime's delete and berth's state for it
