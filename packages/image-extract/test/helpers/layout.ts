/** Writes OCI image layouts for tests. Not part of the package. */
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeTar, type TarSpec } from './tar-writer.js';

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string };
  [k: string]: unknown;
}

export interface LayerDesc extends Desc {
  diffId: string;
}

export const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const sha256 = (data: Buffer | string): string =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process exits. */
export function tempDir(prefix = 'berth-ie-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export class Layout {
  readonly dir: string;

  constructor(dir?: string) {
    this.dir = dir ?? path.join(tempDir(), 'layout');
    mkdirSync(path.join(this.dir, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(
      path.join(this.dir, 'oci-layout'),
      JSON.stringify({ imageLayoutVersion: '1.0.0' }),
    );
  }

  blobPath(digest: string): string {
    return path.join(this.dir, 'blobs', 'sha256', digest.slice(7));
  }

  /** Stores content (objects as JSON) and returns its digest and size. */
  blob(content: Buffer | string | object): { digest: string; size: number; data: Buffer } {
    const data = Buffer.isBuffer(content)
      ? content
      : Buffer.from(typeof content === 'string' ? content : JSON.stringify(content));
    const digest = sha256(data);
    writeFileSync(this.blobPath(digest), data);
    return { digest, size: data.length, data };
  }

  /** A layer from a tar (or tar specs), gzip-compressed unless `gzip: false`. */
  layer(
    tar: Buffer | ReadonlyArray<TarSpec | Buffer>,
    opts: { gzip?: boolean; mediaType?: string } = {},
  ): LayerDesc {
    const raw = Buffer.isBuffer(tar) ? tar : makeTar(tar);
    const gzip = opts.gzip ?? true;
    const stored = gzip ? gzipSync(raw) : raw;
    const { digest, size } = this.blob(stored);
    return {
      mediaType: opts.mediaType ?? (gzip ? MT.layerGzip : MT.layer),
      digest,
      size,
      diffId: sha256(raw),
    };
  }

  /** Stores config + manifest for these layers; returns the manifest descriptor. */
  image(
    layers: ReadonlyArray<LayerDesc>,
    opts: {
      config?: Record<string, unknown>;
      architecture?: string;
      os?: string;
      docker?: boolean;
      editConfig?: (c: Record<string, unknown>) => unknown;
      editManifest?: (m: Record<string, unknown>) => unknown;
      configDesc?: (d: Desc) => Desc;
    } = {},
  ): Desc {
    const config: Record<string, unknown> = {
      architecture: opts.architecture ?? 'amd64',
      os: opts.os ?? 'linux',
      config: opts.config ?? { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    };
    const c = this.blob((opts.editConfig?.(config) ?? config) as object);
    let configDesc: Desc = {
      mediaType: opts.docker ? MT.dockerConfig : MT.config,
      digest: c.digest,
      size: c.size,
    };
    if (opts.configDesc) configDesc = opts.configDesc(configDesc);
    const mediaType = opts.docker ? MT.dockerManifest : MT.manifest;
    const manifest: Record<string, unknown> = {
      schemaVersion: 2,
      mediaType,
      config: configDesc,
      layers: layers.map(({ diffId: _d, ...l }) => l),
    };
    const m = this.blob((opts.editManifest?.(manifest) ?? manifest) as object);
    return { mediaType, digest: m.digest, size: m.size };
  }

  /** Stores an image index blob; returns its descriptor. */
  index(
    manifests: ReadonlyArray<Desc>,
    opts: { docker?: boolean; edit?: (i: Record<string, unknown>) => unknown } = {},
  ): Desc {
    const mediaType = opts.docker ? MT.dockerList : MT.index;
    const index: Record<string, unknown> = { schemaVersion: 2, mediaType, manifests };
    const b = this.blob((opts.edit?.(index) ?? index) as object);
    return { mediaType, digest: b.digest, size: b.size };
  }

  /** Writes index.json; `tag` becomes org.opencontainers.image.ref.name. */
  writeIndex(entries: ReadonlyArray<{ desc: Desc; tag?: string }>): void {
    const manifests = entries.map(({ desc, tag }) =>
      tag === undefined
        ? desc
        : {
            ...desc,
            annotations: { ...(desc.annotations ?? {}), 'org.opencontainers.image.ref.name': tag },
          },
    );
    writeFileSync(
      path.join(this.dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests }),
    );
  }

  /** Shortcut: one image from layer specs, tagged `latest`. Returns the oci: reference. */
  single(
    layerSpecs: ReadonlyArray<ReadonlyArray<TarSpec | Buffer> | Buffer | LayerDesc>,
    opts: { gzip?: boolean } = {},
  ): string {
    const layers = layerSpecs.map((s) =>
      !Buffer.isBuffer(s) && !Array.isArray(s) ? (s as LayerDesc) : this.layer(s as Buffer, opts),
    );
    const desc = this.image(layers);
    this.writeIndex([{ desc, tag: 'latest' }]);
    return `oci:${this.dir}:latest`;
  }
}

/** A tar of a directory tree (an OCI layout becomes an oci-archive), names relative to it. */
export function treeTar(dir: string, extra: ReadonlyArray<TarSpec> = []): Buffer {
  const specs: TarSpec[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(path.join(dir, r)).isDirectory()) {
        specs.push({ name: `${r}/`, type: 'dir' });
        walk(r);
      } else specs.push({ name: r, data: readFileSync(path.join(dir, r)) });
    }
  };
  walk('');
  return makeTar([...specs, ...extra]);
}

/** One image of a docker archive: its layer tars (stored as given) and config. */
export interface DockerArchiveImage {
  layers: ReadonlyArray<{ stored: Buffer; tar: Buffer }>;
  repoTags?: string[];
  config?: Record<string, unknown>;
  editConfig?: (c: Record<string, unknown>) => unknown;
  /** Rename the config member (default `<sha256 of it>.json`). */
  configName?: string;
  layerSources?: Record<string, unknown>;
  /** Leave layer i out of the archive. */
  omitLayer?: number;
}

/** Builds a `docker save` style archive (manifest.json, `<hex>.json`, `<n>/layer.tar`). */
export function dockerArchive(images: ReadonlyArray<DockerArchiveImage>): Buffer {
  const specs: TarSpec[] = [];
  const manifest = images.map((img, n) => {
    const cfg: Record<string, unknown> = {
      architecture: 'amd64',
      os: 'linux',
      config: img.config ?? { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: img.layers.map((l) => sha256(l.tar)) },
    };
    const data = Buffer.from(JSON.stringify(img.editConfig?.(cfg) ?? cfg));
    const configName = img.configName ?? `${sha256(data).slice(7)}.json`;
    specs.push({ name: configName, data });
    const layers = img.layers.map((l, i) => {
      const name = `img${n}-layer${i}/layer.tar`;
      if (img.omitLayer !== i) specs.push({ name, data: l.stored });
      return name;
    });
    return {
      Config: configName,
      RepoTags: img.repoTags ?? null,
      Layers: layers,
      ...(img.layerSources && { LayerSources: img.layerSources }),
    };
  });
  specs.unshift({ name: 'manifest.json', data: JSON.stringify(manifest) });
  return makeTar(specs);
}
