// expect: lock-uses-only-errors
import { runtimeState } from '@berth-oci/runtime-ops';

export const f = runtimeState;
