// Needs: root, crun or runc, and a bundle, the first argument: a directory with config.json
// (process.terminal false: the output goes to this process's) and rootfs.
import { resolve } from 'node:path';
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
});
console.log(`exit status ${exitCode}`);
