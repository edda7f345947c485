/** A minimal OCI image layout for tests: one manifest, a config and no layers. */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Writes the layout into `dir` and returns its reference (`oci:DIR:TAG`). */
export async function writeEmptyImage(
  dir: string,
  config: Record<string, unknown> = {},
  tag = 'test',
): Promise<string> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const blob = async (content: object) => {
    const data = Buffer.from(JSON.stringify(content));
    const digest = sha256(data);
    await writeFile(path.join(dir, 'blobs', 'sha256', digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const cfg = await blob({
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [] },
    config,
  });
  const manifest = await blob({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
    layers: [],
  });
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return `oci:${dir}:${tag}`;
}
