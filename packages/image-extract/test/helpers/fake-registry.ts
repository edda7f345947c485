/**
 * An in-process OCI distribution registry for tests (loopback only): manifests by tag and
 * digest, blobs, anonymous or Basic-protected bearer tokens, or plain Basic auth, and hooks to
 * inject faults. Not part of the package.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { MT, sha256 } from './layout.js';
import { makeTar, type TarSpec } from './tar-writer.js';

export type Hook = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { path: string; count: number },
) => boolean | undefined;

export interface PushedImage {
  manifestDigest: string;
  manifest: Buffer;
  configDigest: string;
  layers: Array<{ digest: string; size: number; tar: Buffer }>;
}

export class FakeRegistry {
  readonly blobs = new Map<string, Buffer>();
  /** `repo@ref` (tag or digest) → document. */
  readonly manifests = new Map<string, { data: Buffer; contentType: string }>();
  /** Requests seen, as `METHOD path`. */
  readonly log: string[] = [];
  /** Authorization headers seen, by path. */
  readonly authSeen: Array<{ path: string; authorization: string | undefined }> = [];
  auth: 'none' | 'bearer' | 'basic' = 'none';
  /** Accounts for Basic auth (also for the token endpoint). */
  users = new Map<string, string>();
  /** The token endpoint wants credentials (otherwise anonymous tokens are given out). */
  tokenNeedsCredentials = false;
  hooks: Hook[] = [];
  private readonly counts = new Map<string, number>();
  private server: Server | undefined;
  host = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.host;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** How many GETs a path received. */
  count(path: string): number {
    return this.counts.get(path) ?? 0;
  }

  private basicOk(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const [u, ...p] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    return u !== undefined && this.users.get(u) === p.join(':');
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    const path = url.pathname;
    const count = (this.counts.get(path) ?? 0) + 1;
    this.counts.set(path, count);
    this.log.push(`${req.method} ${path}`);
    this.authSeen.push({ path, authorization: req.headers.authorization });
    for (const hook of this.hooks) if (hook(req, res, { path, count })) return;
    if (path === '/token') {
      const creds = req.headers.authorization;
      if (creds ? !this.basicOk(creds) : this.tokenNeedsCredentials) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          token: `tok-${creds ? 'user' : 'anon'}`,
          scope: url.searchParams.get('scope'),
        }),
      );
      return;
    }
    if (path === '/v2/' || path.startsWith('/v2/')) {
      const a = req.headers.authorization;
      if (
        this.auth === 'bearer' &&
        !(a === 'Bearer tok-user' || (a === 'Bearer tok-anon' && !this.tokenNeedsCredentials))
      ) {
        res.writeHead(401, {
          'www-authenticate': `Bearer realm="http://${this.host}/token",service="fake",scope="repository:x:pull"`,
          'content-type': 'application/json',
        });
        res.end(
          JSON.stringify({
            errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }],
          }),
        );
        return;
      }
      if (this.auth === 'basic' && !this.basicOk(a)) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
        return;
      }
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const [, repo, kind, ref] = m as unknown as [string, string, string, string];
    if (kind === 'manifests') {
      const doc = this.manifests.get(`${repo}@${ref}`);
      if (!doc) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }),
        );
        return;
      }
      res.writeHead(200, {
        'content-type': doc.contentType,
        'content-length': doc.data.length,
        'docker-content-digest': sha256(doc.data),
      });
      res.end(doc.data);
      return;
    }
    const blob = this.blobs.get(ref);
    if (!blob) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] }));
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': blob.length,
    });
    res.end(blob);
  }

  putBlob(data: Buffer): { digest: string; size: number } {
    const digest = sha256(data);
    this.blobs.set(digest, data);
    return { digest, size: data.length };
  }

  putManifest(
    repo: string,
    refs: string[],
    doc: object | Buffer,
    contentType?: string,
  ): { digest: string; size: number } {
    const data = Buffer.isBuffer(doc) ? doc : Buffer.from(JSON.stringify(doc));
    const digest = sha256(data);
    const type =
      contentType ??
      (JSON.parse(data.toString('utf8')) as { mediaType?: string }).mediaType ??
      MT.manifest;
    for (const r of [...refs, digest])
      this.manifests.set(`${repo}@${r}`, { data, contentType: type });
    return { digest, size: data.length };
  }

  /** Pushes an image made of gzip layers; returns its digests. */
  pushImage(
    repo: string,
    tags: string[],
    layers: ReadonlyArray<ReadonlyArray<TarSpec>>,
    opts: {
      architecture?: string;
      config?: object;
      docker?: boolean;
      editManifest?: (m: Record<string, unknown>) => unknown;
    } = {},
  ): PushedImage {
    const tars = layers.map((l) => makeTar(l));
    const stored = tars.map((t) => this.putBlob(gzipSync(t)));
    const config = {
      architecture: opts.architecture ?? 'amd64',
      os: 'linux',
      config: opts.config ?? { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: tars.map((t) => sha256(t)) },
    };
    const c = this.putBlob(Buffer.from(JSON.stringify(config)));
    const manifest: Record<string, unknown> = {
      schemaVersion: 2,
      mediaType: opts.docker ? MT.dockerManifest : MT.manifest,
      config: { mediaType: opts.docker ? MT.dockerConfig : MT.config, ...c },
      layers: stored.map((s) => ({ mediaType: opts.docker ? MT.dockerLayer : MT.layerGzip, ...s })),
    };
    const doc = (opts.editManifest?.(manifest) ?? manifest) as object;
    const m = this.putManifest(repo, tags, doc);
    return {
      manifestDigest: m.digest,
      manifest: Buffer.from(JSON.stringify(doc)),
      configDigest: c.digest,
      layers: stored.map((s, i) => ({ ...s, tar: tars[i] as Buffer })),
    };
  }
}
