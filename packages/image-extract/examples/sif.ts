// Reads the header and objects of a SIF image and finds the partition a container runs from.
// (The image is one of the reference implementation's test files: Debian's
// golang-github-sylabs-sif-dev, which berth's test set-up installs.)
import { isSifFile, isSigned, readSif, systemPartition } from '@berth-oci/image-extract';

const file = '/usr/share/gocode/src/github.com/sylabs/sif/test/images/one-group.sif';
if (!(await isSifFile(file))) throw new Error(`${file} is not a SIF image`);
const sif = await readSif(file);
const system = systemPartition(sif); // squashfs; encrypted or ext3 ones are refused
console.log(`${sif.objects.length} objects, arch ${sif.arch}, signed: ${isSigned(sif)}`);
console.log(`system partition: ${system.fsType}, ${system.size} bytes at ${system.offset}`);
