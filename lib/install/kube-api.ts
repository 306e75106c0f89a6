// Reads a node's pod CIDRs from the Kubernetes API with the pod's in-cluster service account (token + CA), the
// way flannel's and calico's node installers learn the node's range.

import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { join } from 'node:path';

function readSecret(dir: string, name: string): string {
  try {
    return readFileSync(join(dir, name), 'utf8');
  } catch (err) {
    throw new Error(`service account ${name} not readable in ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** GET /api/v1/nodes/NAME over HTTPS to KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT; returns spec.podCIDRs. */
export function readPodCidrsFromNode(node: string, saDir: string, env = process.env): Promise<string[]> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = Number(env.KUBERNETES_SERVICE_PORT ?? '443');
  if (!host || !isIP(host.replace(/^\[|\]$/g, ''))) throw new Error(`KUBERNETES_SERVICE_HOST ${JSON.stringify(host)}: not an IP address (run inside a pod)`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`KUBERNETES_SERVICE_PORT ${JSON.stringify(env.KUBERNETES_SERVICE_PORT)}: not a port`);
  const token = readSecret(saDir, 'token').trim();
  const ca = readSecret(saDir, 'ca.crt');
  return new Promise((resolve, reject) => {
    const req = request(
      { host: host.replace(/^\[|\]$/g, ''), port, path: `/api/v1/nodes/${encodeURIComponent(node)}`, method: 'GET', ca, servername: 'kubernetes.default.svc', headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, timeout: 10000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`GET node ${node}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
          try {
            const spec = JSON.parse(body)?.spec ?? {};
            const cidrs: string[] = Array.isArray(spec.podCIDRs) && spec.podCIDRs.length ? spec.podCIDRs : spec.podCIDR ? [spec.podCIDR] : [];
            if (!cidrs.length) return reject(new Error(`node ${node} has no spec.podCIDR yet (is the controller manager allocating node CIDRs?)`));
            resolve(cidrs.map(String));
          } catch (err) {
            reject(new Error(`GET node ${node}: bad JSON: ${(err as Error).message}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET node ${node}: timed out`)));
    req.on('error', (err) => reject(new Error(`GET node ${node} from ${host}:${port}: ${err.message}`)));
    req.end();
  });
}
