// Needs: root, crun or runc ($BERTH_RUNTIME picks one), and a bundle, the first argument: a
// directory with config.json (process.terminal false: the output goes to this process's) and
// rootfs.
import { join, resolve } from 'node:path';
import { findRuntime, runContainer, runtimeStateRoot } from '@berth-oci/runtime-ops';

const bundle = resolve(process.argv[2] ?? 'bundle');
const runtime = await findRuntime(); // { name: 'crun', path: '/usr/bin/crun' }
const root = await runtimeStateRoot(); // /run/berth for root, else per user, 0700
const { exitCode } = await runContainer({
  runtime,
  bundle,
  id: `example-${process.pid}`,
  root,
  rootless: false,
  // the runtime's own messages: when it fails before the container's process runs (crun on a
  // hybrid cgroup host, say), runContainer rejects with ERR_RUNTIME_OP naming its message
  // instead of resolving with an exit status that looks like the container's
  logFile: join(bundle, 'runtime.log'),
});
console.log(`exit status ${exitCode}`);
