/**
 * Builds OCI image layouts for the tests and the quick start, from directory trees staged on
 * disk and packed with GNU tar (which records owners, modes, hardlinks and symlinks as they are).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';

export interface ImageConfigInput {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
}

export interface LayerInput {
  /** A staged directory tree; its contents become the layer. */
  dir: string;
  /** gzip (default) or uncompressed. */
  compression?: 'gzip' | 'none';
  /** Force every entry's owner to root (for trees staged by a non-root user). */
  rootOwned?: boolean;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function putBlob(layout: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const hex = sha256(data);
  const dir = path.join(layout, 'blobs', 'sha256');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, hex), data);
  return { digest: `sha256:${hex}`, size: data.length };
}

/** Packs a staged directory as a tar stream (sorted, fixed mtimes, numeric owners). */
export async function tarDir(dir: string, rootOwned = false): Promise<Buffer> {
  const args = [
    '--sort=name',
    '--numeric-owner',
    '--format=pax',
    '--pax-option=delete=atime,delete=ctime',
    '-C',
    dir,
  ];
  if (rootOwned) args.push('--owner=0', '--group=0');
  const { stdout } = await execa('tar', ['-c', ...args, '.'], {
    encoding: 'buffer',
    stripFinalNewline: false,
    maxBuffer: 2 ** 30,
  });
  return Buffer.from(stdout);
}

function arch(): string {
  return (
    (
      { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<
        string,
        string
      >
    )[process.arch] ?? process.arch
  );
}

/**
 * Writes (or adds to) an OCI layout at `layout` with one image tagged `tag`.
 * Returns the manifest digest.
 */
export async function writeOciImage(
  layout: string,
  tag: string,
  layers: LayerInput[],
  config: ImageConfigInput,
): Promise<string> {
  await mkdir(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  const layerDescs = [];
  const diffIds = [];
  for (const layer of layers) {
    const tar = await tarDir(layer.dir, layer.rootOwned);
    diffIds.push(`sha256:${sha256(tar)}`);
    const gz = layer.compression !== 'none';
    const blob = gz ? gzipSync(tar, { level: 6 }) : tar;
    layerDescs.push({
      mediaType: gz
        ? 'application/vnd.oci.image.layer.v1.tar+gzip'
        : 'application/vnd.oci.image.layer.v1.tar',
      ...(await putBlob(layout, blob)),
    });
  }
  const imageConfig = {
    created: '2026-01-01T00:00:00Z',
    architecture: arch(),
    os: 'linux',
    config: config,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map(() => ({
      created: '2026-01-01T00:00:00Z',
      created_by: 'berth e2e image builder',
    })),
  };
  const configDesc = {
    mediaType: 'application/vnd.oci.image.config.v1+json',
    ...(await putBlob(layout, Buffer.from(JSON.stringify(imageConfig)))),
  };
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: configDesc,
    layers: layerDescs,
  };
  const manifestDesc = await putBlob(layout, Buffer.from(JSON.stringify(manifest)));
  await writeFile(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const indexPath = path.join(layout, 'index.json');
  let index: { schemaVersion: number; manifests: Array<Record<string, unknown>> };
  try {
    index = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch {
    index = { schemaVersion: 2, manifests: [] };
  }
  index.manifests = index.manifests.filter(
    (m) =>
      (m.annotations as Record<string, string> | undefined)?.[
        'org.opencontainers.image.ref.name'
      ] !== tag,
  );
  index.manifests.push({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...manifestDesc,
    annotations: { 'org.opencontainers.image.ref.name': tag },
  });
  await writeFile(`${indexPath}.tmp`, JSON.stringify(index));
  await rename(`${indexPath}.tmp`, indexPath);
  return manifestDesc.digest;
}
