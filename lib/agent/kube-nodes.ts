// Peers from the Kubernetes API: list then watch Node objects with the pod's service account (token + CA, like
// lib/install/kube-api.ts), keeping name, InternalIP addresses (one per family) and spec.podCIDRs of each node.
// A watch that ends is resumed from the last resourceVersion; a 410 Gone or a failure relists after a second.

import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import { join } from 'node:path';

export const DEFAULT_SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface RawPeer { name: string; address: string[]; podCIDRs: string[] }

/** A Node object as a peer (pure); undefined while it has no pod CIDR or no InternalIP yet (not routable). */
export function nodeToPeer(node: any): RawPeer | undefined {
  const name = node?.metadata?.name;
  const spec = node?.spec ?? {};
  const podCIDRs: string[] = Array.isArray(spec.podCIDRs) && spec.podCIDRs.length ? spec.podCIDRs.map(String) : spec.podCIDR ? [String(spec.podCIDR)] : [];
  const internal: string[] = (node?.status?.addresses ?? []).filter((a: any) => a?.type === 'InternalIP').map((a: any) => String(a.address));
  const address = [internal.find((a) => isIP(a) === 4), internal.find((a) => isIP(a) === 6)].filter((a): a is string => !!a);
  if (typeof name !== 'string' || !podCIDRs.length || !address.length) return undefined;
  return { name, address, podCIDRs };
}

interface Access { host: string; port: number; token: string; ca: string }

function access(saDir: string, env: NodeJS.ProcessEnv): Access {
  const host = (env.KUBERNETES_SERVICE_HOST ?? '').replace(/^\[|\]$/g, '');
  const port = Number(env.KUBERNETES_SERVICE_PORT ?? '443');
  if (!isIP(host)) throw new Error(`KUBERNETES_SERVICE_HOST ${JSON.stringify(env.KUBERNETES_SERVICE_HOST)}: not an IP address (run inside a pod)`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`KUBERNETES_SERVICE_PORT ${JSON.stringify(env.KUBERNETES_SERVICE_PORT)}: not a port`);
  const read = (f: string) => {
    try {
      return readFileSync(join(saDir, f), 'utf8');
    } catch (err) {
      throw new Error(`service account ${f} not readable in ${saDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return { host, port, token: read('token').trim(), ca: read('ca.crt') };
}

export class NodeWatch {
  readonly nodes = new Map<string, any>();
  /** Bumped on every change, so the agent's loop sees that the peer list may differ. */
  generation = 0;
  lastError = '';
  private rv = '';
  private stopped = false;
  private current?: { destroy(err?: Error): void };
  private readonly a: Access;
  private readonly log: (line: string) => void;

  constructor(saDir: string, log: (line: string) => void, env = process.env) {
    this.a = access(saDir, env);
    this.log = log;
  }

  /** The current peers (nodes that are routable), sorted by name. */
  peers(): RawPeer[] {
    return [...this.nodes.values()].map(nodeToPeer).filter((p): p is RawPeer => !!p).sort((x, y) => x.name.localeCompare(y.name));
  }

  /** Lists once (rejects when the API cannot be read), then keeps watching in the background. */
  async start(): Promise<void> {
    await this.list();
    void this.watchLoop();
  }

  stop(): void {
    this.stopped = true;
    this.current?.destroy();
  }

  private opts(path: string): RequestOptions {
    return { host: this.a.host, port: this.a.port, path, method: 'GET', ca: this.a.ca, servername: 'kubernetes.default.svc', headers: { authorization: `Bearer ${this.a.token}`, accept: 'application/json' } };
  }

  private list(): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request({ ...this.opts('/api/v1/nodes'), timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`list nodes: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
          try {
            const doc = JSON.parse(body);
            this.nodes.clear();
            for (const n of doc.items ?? []) this.nodes.set(n.metadata.name, n);
            this.rv = String(doc.metadata?.resourceVersion ?? '');
            this.generation++;
            resolve();
          } catch (err) {
            reject(new Error(`list nodes: bad JSON: ${(err as Error).message}`));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error('list nodes: timed out')));
      req.on('error', (err) => reject(new Error(`list nodes from ${this.a.host}:${this.a.port}: ${err.message}`)));
      req.end();
    });
  }

  /** One watch request; resolves 'gone' when the resourceVersion is too old (relist), 'ended' otherwise. */
  private watchOnce(): Promise<'gone' | 'ended'> {
    const path = `/api/v1/nodes?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${encodeURIComponent(this.rv)}`;
    return new Promise((resolve, reject) => {
      const req = request(this.opts(path), (res) => {
        if (res.statusCode === 410) return res.resume(), resolve('gone');
        if (res.statusCode !== 200) return res.resume(), reject(new Error(`watch nodes: HTTP ${res.statusCode}`));
        let buf = '';
        let gone = false;
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            const line = buf.slice(0, i).trim();
            buf = buf.slice(i + 1);
            if (line && this.event(JSON.parse(line)) === 'gone') gone = true;
          }
        });
        res.on('end', () => resolve(gone ? 'gone' : 'ended'));
        res.on('error', reject);
      });
      req.on('error', reject);
      this.current = req;
      req.end();
    });
  }

  private event(ev: { type: string; object: any }): 'gone' | undefined {
    const o = ev.object;
    if (ev.type === 'ERROR') return o?.code === 410 ? 'gone' : (this.log(`watch nodes: ${o?.message ?? 'error event'}`), 'gone');
    if (o?.metadata?.resourceVersion) this.rv = String(o.metadata.resourceVersion);
    if (ev.type === 'BOOKMARK') return undefined;
    if (ev.type === 'DELETED') this.nodes.delete(o.metadata.name);
    else this.nodes.set(o.metadata.name, o);
    this.generation++;
    return undefined;
  }

  private async watchLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        if ((await this.watchOnce()) === 'gone') await this.list();
        this.lastError = '';
      } catch (err) {
        if (this.stopped) return;
        const msg = (err as Error).message;
        if (msg !== this.lastError) this.log(`${msg}; relisting in 1 s`);
        this.lastError = msg;
        await new Promise((r) => setTimeout(r, 1000));
        await this.list().catch(() => {});
      }
    }
  }
}
