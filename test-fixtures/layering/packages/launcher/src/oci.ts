// expect: launcher-composes-libraries
import { createContainer } from '@berth-oci/conmon-create';

export const f = createContainer;
