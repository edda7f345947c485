// berth's side of the unpack benchmark: resolve and verify the image, unpack it into DEST.
// Plain JS on the built package, so that no TypeScript loader is timed.
import { resolveImage, unpackImage } from '@berth-oci/image-extract';

const [ref, dest] = process.argv.slice(2);
const image = await resolveImage(ref);
await unpackImage(image, dest);
