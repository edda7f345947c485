// expect: errors-stands-alone
import { parseSubuid } from '@berth-oci/idmap';

export const f = parseSubuid;
