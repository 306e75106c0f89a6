// The node image: conf/kubernetes/Containerfile builds (offline, on a glibc base with nft in place of debian:12-slim,
// from a context staged per its COPY lines), and the image, run with the DaemonSet's init-container command and
// hostPath volumes, installs tscni on a kubeadm-like node and uninstalls it again, leaving the node exactly as it
// was; run with the agent container's command, capabilities, ConfigMap, service-account mount and env (host
// network: the node is a test netns), it lists and watches Node objects on a test API server and routes their pod CIDRs.

import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_COMMAND, AGENT_CONFIG_DIR, AGENT_SECURITY, AGENT_STATE_DIR, HOST, HOST_DIRS, INSTALL_COMMAND, manifest } from '../../../conf/kubernetes/manifest.ts';
import { snapshotTree } from '../../helpers/fs-tree.ts';
import { glibcBaseTar } from '../../helpers/clients/glibc-base.ts';
import { makeNode } from '../../helpers/clients/k8s-node.ts';
import { makeNetns, requireRoot, type TestNetns } from '../../helpers/netns.ts';
import { ROOT } from '../../helpers/plugin.ts';
import { makePodman, type Podman } from '../../helpers/clients/podman.ts';
import { makeApiCert, serviceAccountDir } from '../../helpers/clients/fake-kube-cert.ts';

const BASE = 'localhost/tscni-glibc-base:test';
const IMAGE = 'localhost/tscni-installer:test';
const CONTAINERFILE = join(ROOT, 'conf/kubernetes/Containerfile');

function tempDir(t: ExecutionContext, tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `tscni-${tag}-`));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Builds the image in a private podman inside `host`, from a context holding exactly the COPY sources (links followed). */
function buildImage(t: ExecutionContext, d: string, host: TestNetns): Podman {
  // No container here uses a CNI network: podman only wants a plugin dir that exists.
  mkdirSync(join(d, 'no-plugins'));
  const podman = makePodman(t, host, [join(d, 'no-plugins')], 'none');
  const work = join(d, 'base');
  mkdirSync(work);
  const tar = glibcBaseTar(work, join(ROOT, 'node_modules/bun/bin/bun.exe'), { bins: ['/usr/sbin/nft'], shell: true });
  podman.ok(['import', tar, BASE], { hideVarLib: true });
  const ctx = join(d, 'context');
  for (const line of readFileSync(CONTAINERFILE, 'utf8').split('\n').filter((l) => l.startsWith('COPY '))) {
    const from = line.slice(5).trim().split(/\s+/)[0];
    cpSync(join(ROOT, from), join(ctx, from), { recursive: true, dereference: true });
  }
  // RUN steps get no network: the offline base has nft, so the Containerfile's download is skipped.
  podman.ok(['build', '--layers=false', '--network', 'none', '--from', BASE, '-f', CONTAINERFILE, '-t', IMAGE, ctx], { hideVarLib: true });
  return podman;
}

test.serial('the Containerfile builds an installer image that installs and uninstalls tscni through hostPath volumes', async (t) => {
  if (!requireRoot(t)) return;
  const d = tempDir(t, 'k8simg');
  const podman = buildImage(t, d, makeNetns(t, 'k8si'));
  const { node } = makeNode(d);
  const before = snapshotTree(node);
  const volumes = Object.values(HOST_DIRS).flatMap((p) => ['--volume', `${join(node, p)}:${HOST}${p}`]);
  // The DaemonSet's command, with the pod CIDR given instead of read from the API (that path has its own test).
  const i = INSTALL_COMMAND.indexOf('--pod-cidr-from-node');
  const command = [...INSTALL_COMMAND.slice(0, i), '--pod-cidr', '10.244.3.0/24', ...INSTALL_COMMAND.slice(i + 2)];
  const run = (argv: readonly string[]) => podman.ok(['run', '--rm', '--network', 'none', ...volumes, '--entrypoint', argv[0], IMAGE, ...argv.slice(1)]);

  t.regex(run(command), /^tscni install: \d+ files under \/opt\/tscni; plugins linked in \/opt\/cni\/bin; network tscni in \/etc\/cni\/net\.d;/);
  for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) {
    t.is(readlinkSync(join(node, 'opt/cni/bin', p)), `/opt/tscni/lib/${p}`);
    t.is(readFileSync(join(node, 'opt/tscni/backup/opt/cni/bin', p), 'utf8'), `#!/bin/sh\necho reference ${p}\n`);
  }
  t.is(readFileSync(join(node, 'opt/tscni/lib/portmap'), 'utf8').split('\n')[0], '#!/opt/tscni/bun');
  const conflist = JSON.parse(readFileSync(join(node, 'etc/cni/net.d/10-tscni.conflist'), 'utf8'));
  t.is(conflist.cniVersion, '1.0.0');
  t.deepEqual(conflist.plugins[0].ipam.ranges, [[{ subnet: '10.244.3.0/24' }]]);

  t.is(run([INSTALL_COMMAND[0], INSTALL_COMMAND[1], 'uninstall', '--root', HOST]), 'tscni uninstall: removed everything recorded in /opt/tscni/manifest.json');
  t.deepEqual(snapshotTree(node), before);
});

const TOKEN = 'tscni-agent-image-token';
const nodeObject = (name: string, ip: string, cidr: string) => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDR: cidr, podCIDRs: [cidr] },
  status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] },
});

async function within(ms: number, what: string, ok: () => boolean): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 100))) if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
}

test.serial('the image runs the DaemonSet\'s agent container: Node objects listed and watched with the service account, VXLAN routes made and removed', async (t) => {
  if (!requireRoot(t)) return;
  const d = tempDir(t, 'k8sagent');
  const node = makeNetns(t, 'k8sa'); // the node's network: the pod has hostNetwork
  const podman = buildImage(t, d, node);
  node.run(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'lan0']);
  node.run(['ip', 'addr', 'add', '192.168.60.11/24', 'dev', 'eth0']);
  for (const l of ['lo', 'eth0', 'lan0']) node.run(['ip', 'link', 'set', l, 'up']);

  // The API server (kubernetes.default.svc, here on the node's loopback) and what the kubelet gives the container.
  makeApiCert(d, '127.0.0.1');
  const sa = serviceAccountDir(d, TOKEN);
  const api = spawn('ip', ['netns', 'exec', node.name, process.execPath, join(ROOT, 'test/helpers/clients/fake-kube-nodes.ts'), d, TOKEN, '127.0.0.1', '6443'], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => api.kill('SIGKILL'));
  let seen = '';
  api.stdout.setEncoding('utf8').on('data', (s) => (seen += s));
  await within(5000, 'the API server listens', () => seen.includes('listening'));
  const send = (type: string, o: object) => api.stdin.write(JSON.stringify({ type, object: o }) + '\n');
  send('ADDED', nodeObject('node-1', '192.168.60.11', '10.244.1.0/24'));
  send('ADDED', nodeObject('node-2', '192.168.60.12', '10.244.2.0/24'));

  const docs = manifest() as any[];
  const configMap = docs.find((x) => x.kind === 'ConfigMap' && x.metadata.name === 'tscni-agent');
  const pod = docs.find((x) => x.kind === 'DaemonSet').spec.template.spec;
  const agent = pod.containers.find((c: { name: string }) => c.name === 'agent');
  t.true(pod.hostNetwork);
  t.deepEqual(agent.command, AGENT_COMMAND);
  t.deepEqual(agent.securityContext, AGENT_SECURITY);
  t.deepEqual(agent.env, [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]);
  t.deepEqual(docs.find((x) => x.kind === 'ClusterRole').rules, [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }]);
  const configDir = join(d, 'configmap');
  mkdirSync(configDir);
  for (const [k, v] of Object.entries(configMap.data)) writeFileSync(join(configDir, k), v as string);
  const stateDir = join(d, 'state');
  mkdirSync(stateDir);

  // The container as the kubelet would start it: $(NODE_NAME) expanded, the manifest's capabilities and user, its
  // ConfigMap and hostPath mounts, the service account at its standard path, KUBERNETES_SERVICE_* set, host network.
  const argv = agent.command.map((a: string) => a.replaceAll('$(NODE_NAME)', 'node-1'));
  const caps = [...AGENT_SECURITY.capabilities.drop.map((c) => `--cap-drop=${c}`), ...AGENT_SECURITY.capabilities.add.map((c) => `--cap-add=${c}`)];
  const mounts = agent.volumeMounts.map((m: { name: string; mountPath: string; readOnly?: boolean }) => {
    const src = m.name === 'agent-config' ? configDir : m.name === 'agent-state' ? stateDir : '';
    t.is(m.mountPath, m.name === 'agent-config' ? AGENT_CONFIG_DIR : AGENT_STATE_DIR);
    return `--volume=${src}:${m.mountPath}${m.readOnly ? ':ro' : ''}`;
  });
  podman.ok(['run', '-d', '--name', 'tscni-agent', '--network', 'host', `--user=${AGENT_SECURITY.runAsUser}`, ...caps, ...mounts,
    `--volume=${sa}:/var/run/secrets/kubernetes.io/serviceaccount:ro`,
    '--env', 'NODE_NAME=node-1', '--env', 'KUBERNETES_SERVICE_HOST=127.0.0.1', '--env', 'KUBERNETES_SERVICE_PORT=6443',
    '--entrypoint', argv[0], IMAGE, ...argv.slice(1)]);
  t.teardown(() => podman.run(['rm', '--force', '--time', '0', 'tscni-agent']));
  const status = () => { try { return JSON.parse(readFileSync(join(stateDir, 'status.json'), 'utf8')); } catch { return undefined; } };
  const routes = () => node.run(['ip', '-4', 'route', 'show', 'proto', '126']).trim().split('\n').filter(Boolean);
  const logs = () => podman.run(['logs', 'tscni-agent']).stderr;
  await within(15_000, 'the agent synced', () => status()?.lastSync !== undefined).catch((err) => { throw new Error(`${err.message}\n${logs()}`); });
  t.is(status().lastSync.error, undefined, logs());
  t.deepEqual(status().peers.map((p: any) => [p.name, p.state]), [['node-1', 'self'], ['node-2', 'synced']]);
  t.deepEqual(routes(), ['10.244.2.0/24 via 10.244.2.0 dev tscni.vxlan onlink']);
  t.regex(node.run(['bridge', 'fdb', 'show', 'dev', 'tscni.vxlan']), /dst 192\.168\.60\.12 self permanent/);
  const nomasq = JSON.parse(node.run(['/usr/sbin/nft', '-j', 'list', 'set', 'inet', 'tscni_bridge', 'nomasq4'])).nftables.find((x: any) => x.set).set;
  t.deepEqual(nomasq.elem.map((e: any) => `${e.elem.val.prefix.addr}/${e.elem.val.prefix.len} ${e.elem.comment}`), ['10.244.1.0/24 tscni-agent', '10.244.2.0/24 tscni-agent']);

  // A node joins and another leaves in the API: the running container follows the watch.
  send('ADDED', nodeObject('node-3', '192.168.60.13', '10.244.3.0/24'));
  send('DELETED', nodeObject('node-2', '192.168.60.12', '10.244.2.0/24'));
  await within(5000, 'node-3 routed, node-2 forgotten', () => routes().join() === '10.244.3.0/24 via 10.244.3.0 dev tscni.vxlan onlink');
  const requests = seen.split('\n').filter((l) => l.startsWith('GET'));
  t.deepEqual(requests, [`GET /api/v1/nodes Bearer ${TOKEN}`, `GET /api/v1/nodes?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=3 Bearer ${TOKEN}`]);
  podman.ok(['stop', '--time', '5', 'tscni-agent']);
  t.regex(logs(), /stopped \(kernel state left in place/);
});
