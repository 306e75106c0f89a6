// containerd 1.6 on tscni: the plugins put in place by `tscni install` (default paths, inside a private mount ns),
// `ctr run --cni` and the CRI sandbox path kubelet uses (RunPodSandbox over the socket) get a working network,
// and tearing down leaves no lease, veth or nft element.

import test, { type ExecutionContext } from 'ava';
import { mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { ociArchive, PAGE } from '../../helpers/busybox-tar.ts';
import { cgroupDirs, makeContainerd, NODE, type Containerd } from '../../helpers/clients/containerd.ts';
import { GrpcClient, map, num, str, sub } from '../../helpers/clients/grpc-unix.ts';
import { ipJson, makeNetns, requireRoot, type TestNetns } from '../../helpers/netns.ts';
import { ROOT } from '../../helpers/plugin.ts';

const IMAGE = 'localhost/tscni-busybox:test';
const INSTALLER = join(ROOT, 'lib/install/main.ts');
const NFT = '/usr/sbin/nft';

function leases(c: Containerd): { a: string[]; c: string[]; i: string[] } {
  const r = c.exec(['cat', '/var/lib/cni/networks/tscni/leases.json']);
  return r.status === 0 ? JSON.parse(r.stdout) : { a: [], c: [], i: [] };
}

function waitUntil(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => (ok() ? resolve() : Date.now() > end ? reject(new Error(`timed out: ${what}`)) : setTimeout(tick, 100));
    tick();
  });
}

function curl(ns: TestNetns, url: string) {
  const r = ns.try(['curl', '-sS', '--max-time', '3', '--retry', '3', '--retry-delay', '1', '--retry-connrefused', url]);
  return { status: r.status, body: r.stdout, err: r.stderr };
}

/** Sets up host netns + private containerd + `tscni install` at the default paths with a 1.0.0 conflist. */
function setup(t: ExecutionContext, ns: string) {
  const host = makeNetns(t, 'ctdh');
  const c = makeContainerd(t, host, { sandboxImage: IMAGE });
  const out = c.ok([NODE, INSTALLER, 'install', '--cni-version', '1.0.0']);
  t.regex(out, /^tscni install: \d+ files under \/opt\/tscni; plugins linked in \/opt\/cni\/bin; network tscni in \/etc\/cni\/net\.d/);
  t.is(c.ok(['readlink', '/opt/cni/bin/bridge']), '/opt/tscni/lib/bridge');
  t.is(c.ok(['ls', '/etc/cni/net.d']), '10-tscni.conflist');
  const work = join(c.dir, 'image');
  mkdirSync(work);
  c.ctr(ns, ['image', 'import', ociArchive(work, IMAGE, ['/bin/sleep', '1000000'])]);
  t.teardown(() => {
    for (const d of cgroupDirs(ns)) {
      for (const sub of readdirSync(d, { withFileTypes: true })) if (sub.isDirectory()) rmdirSync(join(d, sub.name));
      rmdirSync(d);
    }
  });
  return { host, c };
}

/** What must be gone after teardown: leases, veths, nft elements naming the address, cached results; then uninstall. */
function assertNothingLeft(t: ExecutionContext, host: TestNetns, c: Containerd, ip: string, id: string) {
  t.deepEqual(leases(c).a, [], 'no lease left');
  t.deepEqual(ipJson(host, ['link', 'show', 'type', 'veth']), [], 'no veth left');
  const ruleset = host.run([NFT, '-j', 'list', 'ruleset']);
  t.false(ruleset.includes(`"${ip}"`), `no nft element names ${ip}`);
  t.false(ruleset.includes(id), `no nft element carries ${id}`);
  t.is(c.ok(['ls', '-A', '/var/lib/cni/results']), '', 'no cached CNI result left');
  t.is(c.ok([NODE, INSTALLER, 'uninstall']), 'tscni uninstall: removed everything recorded in /opt/tscni/manifest.json');
  // /etc/cni/net.d was made by containerd's CRI conf watcher before the install, so it is not the install's to remove.
  t.is(c.ok(['ls', '-A', '/opt', '/etc/cni', '/etc/cni/net.d']), '/etc/cni:\nnet.d\n\n/etc/cni/net.d:\n\n/opt:', 'uninstall leaves only what it found');
}

test.serial('ctr run --cni: the container gets its address from tscni, serves HTTP, and ctr tears it down on exit', async (t) => {
  if (!requireRoot(t)) return;
  const NS = 'tscni-e2e';
  const { host, c } = setup(t, NS);
  const run = c.spawn(['ctr', '--address', c.socket, '-n', NS, 'run', '--cni', '--rm', '--snapshotter', 'native', IMAGE, 'web1', 'httpd', '-f', '-p', '80', '-h', '/www'], 'ctr-run.log');
  const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
  await waitUntil('a lease for web1', () => leases(c).a.length === 1);
  const lease = leases(c);
  t.deepEqual(lease, { ...lease, a: ['10.42.0.2'], c: [`${NS}-web1`], i: ['eth0'] });

  // The container sees the same address on eth0; the host netns reaches httpd on it.
  await waitUntil('task running', () => /web1\s+\d+\s+RUNNING/.test(c.ctr(NS, ['task', 'ls'])));
  const addr = c.ctr(NS, ['task', 'exec', '--exec-id', 'probe', 'web1', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
  t.regex(addr, /\beth0\s+inet 10\.42\.0\.2\/24 /);
  const page = curl(host, 'http://10.42.0.2/');
  t.is(page.status, 0, page.err);
  t.is(page.body, PAGE);
  t.is(ipJson(host, ['link', 'show', 'master', 'tscni0']).length, 1, 'one veth on the bridge');
  t.is(c.ok(['ls', '-A', '/var/lib/cni/results']), `tscni-${NS}-web1-eth0`, 'libcni cached the result');

  c.ctr(NS, ['task', 'kill', '--signal', 'SIGKILL', 'web1']);
  t.is(await exited, 137, 'ctr run reports the SIGKILL');
  t.is(c.ctr(NS, ['containers', 'ls', '--quiet']), '');
  assertNothingLeft(t, host, c, '10.42.0.2', `${NS}-web1`);
});

// CRI v1 RuntimeService, field numbers from k8s.io/cri-api (api.proto).
const CRI = '/runtime.v1.RuntimeService/';

/** RunPodSandbox (+ an httpd container in the pod), checks, then the kubelet's teardown order; ports as CRI PortMappings. */
async function podScenario(t: ExecutionContext, ports: { containerPort: number; hostPort: number }[]) {
  const { host, c } = setup(t, 'k8s.io');
  const cri = new GrpcClient(c.socket);
  t.teardown(() => cri.close());

  const version = await cri.call(CRI + 'Version', { 1: 'v1' });
  t.is(str(version, 2), 'containerd');
  t.is(str(version, 4), 'v1');

  const logDir = join(c.dir, 'pods');
  mkdirSync(logDir);
  const sandboxConfig = {
    1: { 1: 'web', 2: 'c0ffee-0001', 3: 'default', 4: 0 },
    2: 'web',
    3: logDir,
    5: ports.map((p) => ({ 1: 0, 2: p.containerPort, 3: p.hostPort })),
    6: map({ app: 'web' }),
    8: { 1: '' },
  };
  const podId = str(await cri.call(CRI + 'RunPodSandbox', { 1: sandboxConfig }), 1);
  t.regex(podId, /^[0-9a-f]{64}$/);
  let removed = false;
  t.teardown(async () => {
    if (removed) return;
    await cri.call(CRI + 'StopPodSandbox', { 1: podId }).catch(() => {});
    await cri.call(CRI + 'RemovePodSandbox', { 1: podId }).catch(() => {});
  });

  const status = sub(await cri.call(CRI + 'PodSandboxStatus', { 1: podId }), 1);
  t.is(num(status, 3), 0, 'SANDBOX_READY');
  const podIp = str(sub(status, 5), 1);
  t.is(podIp, '10.42.0.2');
  t.deepEqual(leases(c).a, [podIp]);
  t.deepEqual(leases(c).c, [podId], 'the lease is owned by the sandbox id CRI passed as CNI_CONTAINERID');
  // CRI attaches its own loopback network (go-cni's WithLoNetwork, tscni's loopback plugin) besides the conflist.
  t.is(c.ok(['ls', '-A', '/var/lib/cni/results']), `cni-loopback-${podId}-lo\ntscni-${podId}-eth0`, 'libcni cached both results');

  const created = await cri.call(CRI + 'CreateContainer', {
    1: podId,
    2: { 1: { 1: 'httpd', 2: 0 }, 2: { 1: IMAGE }, 3: ['httpd'], 4: ['-f', '-p', '80', '-h', '/www'], 11: 'httpd.log' },
    3: sandboxConfig,
  });
  const ctrId = str(created, 1);
  await cri.call(CRI + 'StartContainer', { 1: ctrId });

  const direct = curl(host, `http://${podIp}/`);
  t.is(direct.status, 0, direct.err);
  t.is(direct.body, PAGE, 'the pod IP answers from the host netns');
  for (const p of ports) {
    const viaHostPort = curl(host, `http://127.0.0.1:${p.hostPort}/`);
    t.is(viaHostPort.status, 0, viaHostPort.err);
    t.is(viaHostPort.body, PAGE, `hostPort ${p.hostPort} from CRI portMappings reaches the pod via tscni portmap`);
  }

  await cri.call(CRI + 'StopContainer', { 1: ctrId, 2: 0 });
  await cri.call(CRI + 'RemoveContainer', { 1: ctrId });
  await cri.call(CRI + 'StopPodSandbox', { 1: podId });
  t.deepEqual(leases(c).a, [], 'StopPodSandbox released the lease (CNI DEL)');
  await cri.call(CRI + 'RemovePodSandbox', { 1: podId });
  removed = true;
  const list = await cri.call(CRI + 'ListPodSandbox', {});
  t.is(list.get(1), undefined, 'no sandbox left');
  for (const p of ports) t.false(host.run([NFT, '-j', 'list', 'ruleset']).includes(String(p.hostPort)), `no nft element publishes ${p.hostPort}`);
  assertNothingLeft(t, host, c, podIp, podId);
}

test.serial('CRI RunPodSandbox (the kubelet path) on tscni: pod IP from host-local, a container in the pod serves HTTP, teardown is clean', async (t) => {
  if (!requireRoot(t)) return;
  await podScenario(t, []);
});

// containerd 1.6 (go-cni) sends portMappings with Go field names: {"HostPort":18082,"ContainerPort":80,"Protocol":"tcp","HostIP":""}.
test.serial('CRI hostPort: containerd\'s capitalised portMappings reach the pod through tscni portmap', async (t) => {
  if (!requireRoot(t)) return;
  await podScenario(t, [{ containerPort: 80, hostPort: 18082 }]);
});
