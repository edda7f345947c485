// expect: none
import type { Mount } from '@berth-oci/bundle-spec';
import { BerthError } from '@berth-oci/errors';

export const f = (m: Mount) => new BerthError('ERR_X', String(m));
