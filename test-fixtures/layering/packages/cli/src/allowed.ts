// expect: none
import { attach } from '@berth-oci/attach';
import { launch } from '@berth-oci/launcher';

export const f = [attach, launch];
