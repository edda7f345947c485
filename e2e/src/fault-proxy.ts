/**
 * A small HTTP proxy on loopback in front of the e2e registry, for the reliability suite: it
 * counts the requests berth makes and injects faults into the responses whose path matches a
 * pattern (a 5xx status, a body cut short, wrong bytes, a stall), each fault used once, in turn.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** Answer with this status and no body. */
  | { kind: 'status'; status: number }
  /** Send the headers (the full Content-Length) and half the body, then close the connection. */
  | { kind: 'truncate' }
  /** Send a body of the right length whose bytes are wrong. */
  | { kind: 'corrupt' }
  /** Send the headers and the first bytes, stay silent for `ms`, then close the connection. */
  | { kind: 'stall'; ms: number };

export interface ProxyRequest {
  method: string;
  path: string;
  status: number;
  fault?: Fault['kind'];
}

export interface FaultProxy {
  /** `127.0.0.1:PORT`, to use as the registry's host. */
  host: string;
  /** Every request answered so far. */
  readonly requests: ProxyRequest[];
  /** Queues faults for the requests whose path matches `pattern` (one fault per request). */
  inject(pattern: RegExp, ...faults: Fault[]): void;
  /** Drops the queued faults and the request log. */
  reset(): void;
  stop(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (a random port) forwarding to the registry at `upstream` (host:port). */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const requests: ProxyRequest[] = [];
  let rules: Array<{ pattern: RegExp; faults: Fault[] }> = [];
  const sockets = new Set<import('node:net').Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const takeFault = (p: string): Fault | undefined => {
    for (const rule of rules)
      if (rule.pattern.test(p) && rule.faults.length) return rule.faults.shift();
    return undefined;
  };

  const server = http.createServer(async (req, res) => {
    const p = req.url ?? '/';
    const method = req.method ?? 'GET';
    const fault = method === 'GET' || method === 'HEAD' ? takeFault(p) : undefined;
    const log: ProxyRequest = { method, path: p, status: 0, ...(fault && { fault: fault.kind }) };
    requests.push(log);
    if (fault?.kind === 'status') {
      log.status = fault.status;
      res.writeHead(fault.status, { 'content-type': 'text/plain' });
      res.end();
      return;
    }
    const body: Buffer[] = [];
    for await (const c of req) body.push(c as Buffer);
    let up: Response;
    try {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers.set(k, v);
      up = await fetch(`http://${upstream}${p}`, {
        method,
        headers,
        redirect: 'manual',
        ...(body.length && { body: Buffer.concat(body) }),
      });
    } catch {
      log.status = 502;
      res.writeHead(502);
      res.end();
      return;
    }
    log.status = up.status;
    const data = Buffer.from(await up.arrayBuffer());
    const headers: Record<string, string> = {};
    up.headers.forEach((v, k) => {
      if (k !== 'content-encoding' && k !== 'transfer-encoding' && k !== 'connection')
        headers[k] = v;
    });
    if (method === 'HEAD' || !fault) {
      res.writeHead(up.status, headers);
      res.end(method === 'HEAD' ? undefined : data);
      return;
    }
    headers['content-length'] = String(data.length);
    res.writeHead(up.status, headers);
    if (fault.kind === 'corrupt') {
      const wrong = Buffer.from(data);
      for (let i = 0; i < wrong.length; i += 97) wrong[i] = (wrong[i] as number) ^ 0xff;
      res.end(wrong);
      return;
    }
    if (fault.kind === 'truncate') {
      res.write(data.subarray(0, Math.floor(data.length / 2)));
      res.flushHeaders();
      setImmediate(() => res.destroy());
      return;
    }
    // stall
    res.write(data.subarray(0, Math.min(16, Math.floor(data.length / 2))));
    const t = setTimeout(() => {
      timers.delete(t);
      res.destroy();
    }, fault.ms);
    timers.add(t);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    inject(pattern, ...faults) {
      rules.push({ pattern, faults });
    },
    reset() {
      rules = [];
      requests.length = 0;
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
