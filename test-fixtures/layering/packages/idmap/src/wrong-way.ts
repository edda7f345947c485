// expect: pure-packages
import { launch } from '@berth-oci/launcher';

export const f = launch;
