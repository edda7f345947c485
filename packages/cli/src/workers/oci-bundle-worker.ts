// The launcher's `oci mount` worker, bundled with the CLI (see unpack-worker.ts).
import '@berth/launcher/oci-bundle-worker';
