// podman 4.3 with its CNI backend on tscni's bridge + host-local + portmap (no reference plugin on the path):
// a published port serves HTTP from another netns and from 127.0.0.1, inspect shows tscni's lease, rm leaves nothing.

import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PAGE } from '../../helpers/busybox-tar.ts';
import { ipJson, makeNetns, requireRoot, wireVeth, type TestNetns } from '../../helpers/netns.ts';
import { DIST_BIN, ROOT } from '../../helpers/plugin.ts';
import { IMAGE, importBusybox, makePodman } from '../../helpers/clients/podman.ts';

const NET = 'tscnipod';
const SUBNET = '10.89.41.0/24';
const GATEWAY = '10.89.41.1';

/** A client netns wired to the host netns by a veth pair: 172.31.241.2 → host 172.31.241.1. */
function makeClient(t: Parameters<typeof makeNetns>[0], host: TestNetns): TestNetns {
  const client = makeNetns(t, 'podcl');
  wireVeth(host, 'tscli0', '172.31.241.1/24', client, 'eth0', '172.31.241.2/24');
  return client;
}

function curl(ns: TestNetns, url: string): { status: number; body: string } {
  const r = ns.try(['curl', '-sS', '--max-time', '3', '--retry', '3', '--retry-delay', '1', '--retry-connrefused', url]);
  return { status: r.status, body: r.stdout };
}

/** `tscni install --no-conflist` into a temp prefix; returns its CNI bin dir. */
function installTscni(t: ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tscni-podman-inst-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  const bin = join(d, 'cni/bin');
  execFileSync(join(ROOT, 'node_modules/node/bin/node'), [join(ROOT, 'lib/install/main.ts'), 'install', '--prefix', join(d, 'tscni'), '--bin-dir', bin, '--no-conflist'], { stdio: 'pipe' });
  return bin;
}

const leases = (dataDir: string) => {
  const p = join(dataDir, NET, 'leases.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { a: string[]; c: string[] }) : { a: [], c: [] };
};

test.serial('podman run -p 18080:80 on tscni: HTTP from another netns and 127.0.0.1, inspect shows the lease, rm leaves nothing', async (t) => {
  if (!requireRoot(t)) return;
  for (const p of ['bridge', 'host-local', 'portmap']) t.true(existsSync(join(DIST_BIN, p)), `${p} not built`);
  const host = makeNetns(t, 'podh');
  const client = makeClient(t, host);
  // podman's plugin dir is a fresh `tscni install` (only tscni's four plugins, run by their own Node).
  const podman = makePodman(t, host, [installTscni(t)], NET);
  const dataDir = join(podman.dir, 'leases');
  podman.addConflist(NET, {
    cniVersion: '1.0.0',
    name: NET,
    plugins: [
      { type: 'bridge', bridge: 'tscpod0', isGateway: true, ipMasq: true, hairpinMode: true,
        ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: SUBNET, gateway: GATEWAY }]], routes: [{ dst: '0.0.0.0/0' }] } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });
  importBusybox(podman);

  const id = podman.ok(['run', '-d', '--name', 'web', '-p', '18080:80', IMAGE, 'httpd', '-f', '-p', '80', '-h', '/www']);
  t.regex(id, /^[0-9a-f]{64}$/);

  // podman's view of the address is the one tscni's host-local leased (read from its store, not from podman).
  const settings = JSON.parse(podman.ok(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'web']));
  const lease = leases(dataDir);
  t.deepEqual(lease.a, ['10.89.41.2']);
  t.deepEqual(lease.c, [id]);
  t.is(settings[NET].IPAddress, '10.89.41.2');
  t.is(settings[NET].Gateway, GATEWAY);
  t.is(settings[NET].IPPrefixLen, 24);
  const sandbox = podman.ok(['inspect', '--format', '{{.NetworkSettings.SandboxKey}}', 'web']);
  t.regex(sandbox, /^\/run\/netns\/netns-[0-9a-f-]{36}$/);
  t.true(existsSync(sandbox));
  const cached = `/var/lib/cni/results/${NET}-${id}-eth0`;
  t.true(existsSync(cached), 'libcni cached the result');

  // The kernel agrees: the bridge holds the gateway, one veth is enslaved to it.
  t.deepEqual(ipJson(host, ['-4', 'addr', 'show', 'tscpod0'])[0].addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`), [`${GATEWAY}/24`]);
  t.is(ipJson(host, ['link', 'show', 'master', 'tscpod0']).length, 1);

  const fromClient = curl(client, 'http://172.31.241.1:18080/');
  t.is(fromClient.status, 0, 'curl from another netns');
  t.is(fromClient.body, PAGE);
  const fromLocalhost = curl(host, 'http://127.0.0.1:18080/');
  t.is(fromLocalhost.status, 0, 'curl 127.0.0.1 in the host netns');
  t.is(fromLocalhost.body, PAGE);
  const direct = curl(host, 'http://10.89.41.2:80/');
  t.is(direct.body, PAGE, 'the container address answers on its own port');

  const elementsUp = host.run(['/usr/sbin/nft', '-j', 'list', 'ruleset']);
  t.true(elementsUp.includes('10.89.41.2'), 'portmap/masquerade elements name the container address');
  t.true(elementsUp.includes(id), 'nft elements carry the container id as owner');
  t.true(elementsUp.includes('18080'), 'nft publishes 18080');

  t.is(podman.ok(['rm', '--force', '--time', '0', 'web']), 'web');
  t.deepEqual(podman.ok(['ps', '--all', '--quiet']), '');
  t.deepEqual(leases(dataDir).a, [], 'no lease left');
  t.deepEqual(ipJson(host, ['link', 'show', 'type', 'veth']).map((l: { ifname: string }) => l.ifname), ['tscli0'], 'only the test client veth is left');
  const ruleset = host.run(['/usr/sbin/nft', '-j', 'list', 'ruleset']);
  t.false(ruleset.includes('10.89.41.2'), 'no nft element names the container address');
  t.false(ruleset.includes(id), 'no nft element carries the container id');
  t.false(ruleset.includes('18080'), 'no nft element publishes 18080');
  t.false(existsSync(sandbox), 'podman removed its container netns');
  t.false(existsSync(cached), 'libcni cached result removed');
  t.is(curl(client, 'http://172.31.241.1:18080/').status === 0, false, 'the published port is closed');
});
