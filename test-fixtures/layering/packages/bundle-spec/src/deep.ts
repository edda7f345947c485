// expect: no-deep-package-import no-unresolvable-package-import
import { BerthError } from '@berth-oci/errors/src/berth-error.js';

export const f = BerthError;
