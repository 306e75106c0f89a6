// tscni agent with peers from the Kubernetes API: a fake kube-apiserver (TLS, bearer token) on the simulated LAN
// serves Node objects; the agents list then watch them, so a node added or deleted in the API is routed or forgotten
// on every other node within a second.

import test from 'ava';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot } from '../../helpers/netns.ts';
import { ROOT } from '../../helpers/plugin.ts';
import { appliedWithin1s, makeCluster, owned, within, pings, seenSource, type SimNode } from './cluster.ts';

const TOKEN = 'tscni-agent-test-token';

const nodeObject = (n: SimNode) => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name: n.name },
  spec: { podCIDR: n.cidrs[0], podCIDRs: n.cidrs },
  status: { addresses: [{ type: 'InternalIP', address: n.addr }, { type: 'InternalIP', address: `fd00:50::1${n.name.slice(1)}` }, { type: 'Hostname', address: n.name }] },
});

test('peers from Node objects: list + watch; a node added or deleted in the API is routed or forgotten within 1 s', async (t) => {
  if (!requireRoot(t)) return;
  const c = await makeCluster(t, 'host-gw');
  const [n1, n2, n3] = c.nodes;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(c.dir, 'key.pem'), '-out', join(c.dir, 'ca.crt'), '-days', '1',
    '-subj', '/CN=kubernetes', '-addext', 'subjectAltName=DNS:kubernetes.default.svc,IP:192.168.50.254'], { stdio: 'ignore' });
  const sa = join(c.dir, 'serviceaccount');
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), TOKEN + '\n');
  writeFileSync(join(sa, 'ca.crt'), execFileSync('cat', [join(c.dir, 'ca.crt')]));
  const api = spawn('ip', ['netns', 'exec', c.outside.name, process.execPath, join(ROOT, 'test/helpers/clients/fake-kube-nodes.ts'), c.dir, TOKEN, '192.168.50.254', '6443'], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => api.kill('SIGKILL'));
  let seen = '';
  api.stdout.setEncoding('utf8').on('data', (d) => (seen += d));
  await within(5000, 'the fake API server listens', () => seen.includes('listening'));
  const send = (type: string, n: SimNode) => api.stdin.write(JSON.stringify({ type, object: nodeObject(n) }) + '\n');
  send('ADDED', n1);
  send('ADDED', n2);

  const config = join(c.dir, 'agent.json');
  writeFileSync(config, JSON.stringify({ backend: 'host-gw', peersFrom: 'kubernetes', serviceAccountDir: sa }));
  const env = { KUBERNETES_SERVICE_HOST: '192.168.50.254', KUBERNETES_SERVICE_PORT: '6443' };
  for (const n of [n1, n2]) c.startAgent(n, { config, env });
  await within(5000, 'n1 and n2 synced', () => [n1, n2].every((n) => c.status(n)?.lastSync));
  t.deepEqual(owned(n1).routes, ['10.244.2.0/24 via 192.168.50.12 dev eth0', 'fd00:244:2::/64 via fd00:50::12 dev eth0 metric 1024 pref medium']);
  t.is(seenSource(n1.pod, n2.pod4), n1.pod4);
  t.is(seenSource(n2.pod, n1.pod6), n2.pod6);

  let t0 = Date.now();
  send('ADDED', n3);
  for (const n of [n1, n2]) await within(3000, `${n.name} routes n3's pod CIDRs`, () => owned(n).routes.some((r) => r.startsWith('10.244.3.0/24 via 192.168.50.13')));
  await appliedWithin1s(t, c, [n1, n2], t0);
  c.startAgent(n3, { config, env });
  await within(5000, 'n3 synced', () => c.status(n3)?.lastSync);
  await within(3000, 'n1 pod pings n3 pod', () => pings(n1.pod, n3.pod4));
  t.is(seenSource(n3.pod, n2.pod4), n3.pod4);

  t0 = Date.now();
  send('DELETED', n3);
  for (const n of [n1, n2]) await within(3000, `${n.name} forgets n3`, () => !owned(n).routes.some((r) => r.includes('244.3.') || r.includes('244:3:')));
  await appliedWithin1s(t, c, [n1, n2], t0);
  t.false(pings(n1.pod, n3.pod4));
  t.deepEqual(c.status(n1).peers.map((p: any) => [p.name, p.state]), [['n1', 'self'], ['n2', 'synced']]);

  const requests = seen.split('\n').filter((l) => l.startsWith('GET')).sort();
  const watch = (rv: number) => `GET /api/v1/nodes?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${rv} Bearer ${TOKEN}`;
  t.deepEqual(requests, [...Array(3).fill(`GET /api/v1/nodes Bearer ${TOKEN}`), watch(3), watch(3), watch(4)], 'one list and one watch per agent, each from the list\'s resourceVersion');
});
