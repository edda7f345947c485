// expect: bundle-spec-types-only
import { buildProcess } from '@berth-oci/bundle-spec';

export const f = buildProcess;
