// expect: none
import { BerthError } from '@berth-oci/errors';
import { withLock } from '@berth-oci/lock';

export const f = [BerthError, withLock];
