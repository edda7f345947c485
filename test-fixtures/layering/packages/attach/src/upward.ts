// expect: oci-packages-build-on-runtime-ops
import { launch } from '@berth-oci/launcher';

export const f = launch;
