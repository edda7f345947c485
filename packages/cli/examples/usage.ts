// Needs: what berth needs (crun or runc; root, or subuid/subgid ranges and newuidmap as a
// user), and an image: the first argument (default docker://alpine:3.20, from the network).
import { main, VERSION } from '@berth-oci/cli';

const image = process.argv[2] ?? 'docker://alpine:3.20';
console.log(`berth ${VERSION}`);
// The command line in-process: berth's output on this process's stdout and stderr, and the
// exit status as the berth command's (the container's, or 255 for berth's own failures).
process.exitCode = await main(['exec', image, 'echo', 'hello from berth']);
