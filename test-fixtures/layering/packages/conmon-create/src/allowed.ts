// expect: none
import { runtimeState } from '@berth-oci/runtime-ops';

export const f = runtimeState;
