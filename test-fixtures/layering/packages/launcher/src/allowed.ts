// expect: none
import { outerMap } from '@berth-oci/idmap';
import { resolveImage } from '@berth-oci/image-extract';
import { defaultMounts } from '@berth-oci/mounts';

export const f = [outerMap, resolveImage, defaultMounts];
