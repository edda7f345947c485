// expect: launcher-composes-libraries nothing-imports-cli
import { main } from '@berth-oci/cli';

export const f = main;
