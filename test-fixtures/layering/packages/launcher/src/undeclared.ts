// expect: launcher-composes-libraries no-unresolvable-package-import
import { nothing } from '@berth-oci/no-such-package';

export const f = nothing;
