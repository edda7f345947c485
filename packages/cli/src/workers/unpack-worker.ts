// The launcher's unpack worker, bundled with the CLI: the bundled launcher starts
// `new URL('./unpack-worker.js', import.meta.url)`, i.e. this file's build output.
import '@berth-oci/launcher/unpack-worker';
