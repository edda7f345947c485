// Needs: root (an ordinary user passes the unshare user-mapping arguments of the namespace
// holder as `userArgs`), conmon, crun or runc, and a bundle, the first argument: a directory
// with config.json and rootfs (`berth oci mount IMAGE DIR` makes one).
import { resolve } from 'node:path';
import { createOciContainer, deleteOciContainer, waitForOciExit } from '@berth-oci/conmon-create';
import { ContainerStore, openContainer, startContainer } from '@berth-oci/runtime-ops';

const bundle = resolve(process.argv[2] ?? 'bundle');
const id = `example-${process.pid}`;
const store = await ContainerStore.open();
const c = await createOciContainer({
  store,
  id,
  bundle,
  logFormat: 'json', // JSON lines, kept current while it runs; default k8s-file
});
// c.record: what the store keeps; c.ctx: how to call its runtime. Status: created.
await startContainer(c.ctx, id);
c.conmon.release(); // this process may exit now; the container lives on
// (or, keeping it: `await c.conmon.wait()` resolves with its exit status)

// later, perhaps from another process: the same container, by its id
const again = await openContainer(await ContainerStore.open(), id);
const status = await waitForOciExit(again, { timeoutMs: 60_000 }); // undefined if it still runs
console.log(`exit status ${status}`);
await deleteOciContainer(again, { force: true }); // killed first if it still runs
