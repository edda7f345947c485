/**
 * A real registry on loopback for the e2e suite (Debian's docker-registry: the CNCF
 * distribution registry), anonymous or with htpasswd credentials, and the images pushed to it.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { execa, type ResultPromise } from 'execa';
import { tarDir } from './oci-layout.js';

export interface Registry {
  /** `127.0.0.1:PORT`. */
  host: string;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago (on 127.0.0.1). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts `docker-registry serve` on 127.0.0.1 (a random port), storing in `dir`; with
 * `htpasswd` (a file of bcrypt entries) it requires those credentials (Basic auth).
 */
export async function startRegistry(dir: string, htpasswd?: string): Promise<Registry> {
  await mkdir(path.join(dir, 'data'), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      ...(htpasswd
        ? ['auth:', '  htpasswd:', '    realm: berth-e2e', `    path: ${htpasswd}`]
        : []),
      '',
    ].join('\n');
    const file = path.join(dir, 'config.yml');
    await writeFile(file, config);
    const child: ResultPromise = execa('docker-registry', ['serve', file], {
      reject: false,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const host = `127.0.0.1:${port}`;
    const up = await waitUp(host, child);
    if (up) {
      return {
        host,
        async stop() {
          child.kill('SIGTERM');
          await child;
        },
      };
    }
    child.kill('SIGKILL');
    const r = await child;
    if (attempt >= 3) throw new Error(`docker-registry did not start: ${String(r.stderr)}`);
  }
}

async function waitUp(host: string, child: ResultPromise): Promise<boolean> {
  let exited = false;
  child.finally(() => {
    exited = true;
  });
  for (let i = 0; i < 200 && !exited; i++) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return true;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** An htpasswd file (bcrypt, as the registry requires) for one user. */
export async function writeHtpasswd(file: string, user: string, password: string): Promise<void> {
  const { stdout } = await execa('htpasswd', ['-Bbn', user, password]);
  await writeFile(file, `${stdout.trim()}\n`);
}

/** `skopeo copy` to a plain-HTTP loopback registry (or to an archive). */
export async function skopeoCopy(from: string, to: string, extra: string[] = []): Promise<void> {
  await execa('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...extra, from, to]);
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface LayoutIndex {
  schemaVersion: number;
  manifests: Array<
    Record<string, unknown> & { digest: string; annotations?: Record<string, string> }
  >;
}

async function putBlob(layout: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  await writeFile(path.join(layout, 'blobs', 'sha256', digest.slice(7)), data);
  return { digest, size: data.length };
}

async function readBlob(layout: string, digest: string): Promise<Buffer> {
  return readFile(path.join(layout, 'blobs', 'sha256', digest.slice(7)));
}

async function readIndex(layout: string): Promise<LayoutIndex> {
  return JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as LayoutIndex;
}

async function tag(layout: string, name: string, desc: Record<string, unknown>): Promise<void> {
  const index = await readIndex(layout);
  index.manifests = index.manifests.filter(
    (m) => m.annotations?.['org.opencontainers.image.ref.name'] !== name,
  );
  index.manifests.push({
    ...desc,
    annotations: { 'org.opencontainers.image.ref.name': name },
  } as unknown as LayoutIndex['manifests'][number]);
  const file = path.join(layout, 'index.json');
  await writeFile(`${file}.tmp`, JSON.stringify(index));
  await rename(`${file}.tmp`, file);
}

/**
 * Adds to `layout` an image made of the image tagged `base` plus one gzip layer holding the
 * files `files(dir)` writes; returns its manifest descriptor (not tagged).
 */
export async function extendImage(
  layout: string,
  base: string,
  files: (dir: string) => Promise<void>,
  config: { architecture?: string; variant?: string } = {},
): Promise<{ mediaType: string; digest: string; size: number }> {
  const index = await readIndex(layout);
  const desc = index.manifests.find(
    (m) => m.annotations?.['org.opencontainers.image.ref.name'] === base,
  );
  if (!desc) throw new Error(`no image tagged ${base} in ${layout}`);
  const manifest = JSON.parse((await readBlob(layout, desc.digest)).toString('utf8'));
  const cfg = JSON.parse((await readBlob(layout, manifest.config.digest)).toString('utf8'));
  const stage = await mkdtemp(path.join(os.tmpdir(), 'berth-e2e-layer-'));
  try {
    await files(stage);
    const tar = await tarDir(stage, true);
    const layer = await putBlob(layout, gzipSync(tar, { level: 1 }));
    cfg.rootfs.diff_ids.push(sha256(tar));
    if (config.architecture) cfg.architecture = config.architecture;
    if (config.variant) cfg.variant = config.variant;
    const c = await putBlob(layout, Buffer.from(JSON.stringify(cfg)));
    manifest.config = { ...manifest.config, ...c };
    manifest.layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer });
    const m = await putBlob(layout, Buffer.from(JSON.stringify(manifest)));
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** The OCI name of this host's architecture. */
export const HOST_ARCH =
  ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;

/**
 * Tags `name` in `layout`: a multi-platform index whose first entry is linux/arm64/v8 and
 * whose second is linux/amd64; each image holds `/platform` naming its architecture (both run
 * here: their binaries are the host's).
 */
export async function addPlatformIndex(layout: string, base: string, name: string): Promise<void> {
  const entries = [];
  for (const [architecture, variant] of [
    ['arm64', 'v8'],
    ['amd64', undefined],
  ] as const) {
    const desc = await extendImage(
      layout,
      base,
      async (dir) => writeFile(path.join(dir, 'platform'), `${architecture}\n`),
      { architecture, ...(variant && { variant }) },
    );
    entries.push({ ...desc, platform: { os: 'linux', architecture, ...(variant && { variant }) } });
  }
  const index = await putBlob(
    layout,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: entries,
      }),
    ),
  );
  await tag(layout, name, { mediaType: 'application/vnd.oci.image.index.v1+json', ...index });
}

/** Tags `name`: the image `base` plus a layer of `count` small files in /many. */
export async function addManyFilesImage(
  layout: string,
  base: string,
  name: string,
  count: number,
): Promise<void> {
  const desc = await extendImage(layout, base, async (dir) => {
    for (let d = 0; d < Math.ceil(count / 1000); d++) {
      const sub = path.join(dir, 'many', `d${d}`);
      await mkdir(sub, { recursive: true });
      const n = Math.min(1000, count - d * 1000);
      await Promise.all(
        Array.from({ length: n }, (_, i) => writeFile(path.join(sub, `f${i}`), `${d}/${i}\n`)),
      );
    }
  });
  await tag(layout, name, desc);
}

/** Tags `name`: the image `base` with every gzip layer recompressed as zstd (by the zstd program). */
export async function addZstdImage(layout: string, base: string, name: string): Promise<void> {
  const index = await readIndex(layout);
  const desc = index.manifests.find(
    (m) => m.annotations?.['org.opencontainers.image.ref.name'] === base,
  );
  if (!desc) throw new Error(`no image tagged ${base} in ${layout}`);
  const manifest = JSON.parse((await readBlob(layout, desc.digest)).toString('utf8'));
  for (const layer of manifest.layers) {
    if (!String(layer.mediaType).endsWith('+gzip')) continue;
    const { stdout } = await execa('zstd', ['-q', '-c', '-3'], {
      input: gunzipSync(await readBlob(layout, layer.digest)),
      encoding: 'buffer',
      stripFinalNewline: false,
      maxBuffer: 2 ** 30,
    });
    const blob = await putBlob(layout, Buffer.from(stdout));
    Object.assign(layer, blob, { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' });
  }
  const m = await putBlob(layout, Buffer.from(JSON.stringify(manifest)));
  await tag(layout, name, { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m });
}
