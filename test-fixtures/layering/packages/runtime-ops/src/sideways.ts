// expect: standalone-packages
import { resolveImage } from '@berth-oci/image-extract';

export const f = resolveImage;
