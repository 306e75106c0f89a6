// tscni agent across three simulated nodes (each a private netns with tscni's bridge and one pod): host-gw over a
// shared LAN, vxlan across a router (where host-gw cannot work). Pods reach every other node's pods over IPv4 and
// IPv6 with their own source address; traffic leaving the cluster is masqueraded; nodes removed, changed and
// re-added converge within 1 s; a SIGKILLed agent restarts without changing anything; foreign entries survive.

import test, { type ExecutionContext } from 'ava';
import { requireRoot } from '../../helpers/netns.ts';
import { NFT } from '../bridge/fixture.ts';
import { appliedWithin1s, makeCluster, owned, pings, seenSource, within, type Cluster, type SimNode } from './cluster.ts';

async function reach(t: ExecutionContext, from: SimNode, to: SimNode): Promise<void> {
  for (const [dst, src] of [[to.pod4, from.pod4], [to.pod6, from.pod6]]) {
    try { await within(3000, `${from.name} pod pings ${dst}`, () => pings(from.pod, dst)); } catch (e) {
      for (const ns of [from.pod, from.ns, to.ns, to.pod]) t.log(ns.name, ns.run(['sh', '-c', 'ip -br addr; ip route; ip -6 route; sysctl net.ipv4.ip_forward; /usr/sbin/nft list ruleset | head -30']));
      throw e;
    }
    t.is(seenSource(from.pod, dst), src, `${from.name} → ${to.name} ${dst}: the server sees the pod's own address`);
  }
}

async function mesh(t: ExecutionContext, c: Cluster, nodes: SimNode[]): Promise<void> {
  for (const a of nodes) for (const b of nodes) if (a !== b) await reach(t, a, b);
}

const mentions = (n: SimNode, what: string) => Object.values(owned(n)).flat().some((l) => l.includes(what));
const nomasq = (n: SimNode) => JSON.parse(n.ns.run([NFT, '-j', 'list', 'set', 'inet', 'tscni_bridge', 'nomasq4'])).nftables[1].set.elem
  .map((e: any) => `${e.elem.val.prefix.addr}/${e.elem.val.prefix.len} ${e.elem.comment}`);

async function exercise(t: ExecutionContext, c: Cluster): Promise<void> {
  const [n1, n2, n3] = c.nodes;
  n1.ns.run(['ip', 'route', 'add', '10.99.0.0/24', 'via', c.outsideAddr]);
  n1.ns.run(['ip', 'neigh', 'add', c.backend === 'vxlan' ? '172.16.1.77' : '192.168.50.77', 'lladdr', '02:00:00:00:00:77', 'dev', 'eth0', 'nud', 'permanent']);
  const foreign = () => n1.ns.run(['ip', 'route', 'show', '10.99.0.0/24']) + n1.ns.run(['ip', 'neigh', 'show', 'dev', 'eth0', 'nud', 'permanent']);
  const foreignBefore = foreign();

  c.writePeers(c.nodes);
  for (const n of c.nodes) c.startAgent(n);
  // lastChange, not lastSync.changes: a slow start (emulation) can put an agent's 10 s resync, which changes nothing,
  // before the last agent's first pass.
  await within(5000, 'every agent applied its first pass', () => c.nodes.every((n) => c.status(n)?.lastChange !== undefined));
  await mesh(t, c, c.nodes);
  t.is(seenSource(n1.pod, c.outsideAddr), n1.addr, 'leaving the cluster: masqueraded to the node address');
  t.deepEqual(nomasq(n1), ['10.244.1.0/24 tscni-agent', '10.244.2.0/24 tscni-agent', '10.244.3.0/24 tscni-agent']);
  const st = c.status(n1);
  t.deepEqual(st.peers.map((p: any) => [p.name, p.state, p.entries]), c.backend === 'vxlan'
    ? [['n1', 'self', 0], ['n2', 'synced', 5], ['n3', 'synced', 5]]
    : [['n1', 'self', 0], ['n2', 'synced', 2], ['n3', 'synced', 2]]);

  // a node removed: its entries vanish from the others within 1 s, and its pod is unreachable
  let t0 = Date.now();
  c.writePeers([n1, n2]);
  for (const n of [n1, n2]) await within(3000, `${n.name} forgets n3`, () => !mentions(n, '10.244.3.') && !mentions(n, n3.addr));
  await appliedWithin1s(t, c, [n1, n2], t0);
  t.false(pings(n1.pod, n3.pod4));
  await within(3000, 'exemption shrinks', () => nomasq(n1).length === 2);
  // re-added: reachability returns
  t0 = Date.now();
  c.writePeers(c.nodes);
  await within(3000, 'n3 back on n1 and n2', () => mentions(n1, '10.244.3.') && mentions(n2, '10.244.3.'));
  await appliedWithin1s(t, c, [n1, n2], t0);
  await reach(t, n1, n3);
  await reach(t, n3, n2);

  // a node changed: n2 moves to another underlay address; the others replace its route/FDB entry in place
  const next = c.backend === 'vxlan' ? '172.16.2.3' : '192.168.50.22';
  n2.ns.run(['ip', 'addr', 'add', `${next}/24`, 'dev', 'eth0']);
  const old = n2.addr;
  n2.addr = next;
  t0 = Date.now();
  c.writePeers(c.nodes);
  await within(3000, 'n1 and n3 use n2\'s new address', () => [n1, n3].every((n) => mentions(n, next) && !mentions(n, old)));
  await appliedWithin1s(t, c, [n1, n3], t0);
  await reach(t, n1, n2);
  await reach(t, n2, n3);

  // a file that stops validating changes nothing and is reported
  const before = owned(n1);
  c.writePeers(c.nodes.map((n) => (n === n3 ? { ...n, cidrs: ['10.244.1.128/25'] } : n)));
  await within(3000, 'n1 reports the bad file', () => /overlaps/.test(c.status(n1)?.configError ?? ''));
  t.is(c.status(n1).configError, 'peers[2].podCIDRs[0] "10.244.1.128/25": overlaps peers[0].podCIDRs[0] (n1) "10.244.1.0/24"');
  t.deepEqual(owned(n1), before);
  c.writePeers(c.nodes);

  // killed -9 and restarted: nothing changes, nothing is added twice
  await within(3000, 'the good file is back in force', () => c.status(n1)?.configError === undefined);
  const snapshot = { owned: owned(n1), nomasq: nomasq(n1) };
  const oldAgent = c.agents.get('n1')!;
  const exited = new Promise((r) => oldAgent.once('exit', r));
  oldAgent.kill('SIGKILL');
  await exited;
  const fresh = c.startAgent(n1);
  await within(5000, 'the restarted agent synced', () => c.status(n1)?.pid === fresh.pid);
  t.is(c.status(n1).lastChange, undefined, 'a restart changes nothing (in any pass since it started)');
  t.deepEqual({ owned: owned(n1), nomasq: nomasq(n1) }, snapshot);
  t.is(new Set(snapshot.owned.routes).size, snapshot.owned.routes.length);
  await reach(t, n1, n3);
  t.is(foreign(), foreignBefore, 'entries the agent does not own are untouched');
}

test('host-gw: three nodes on one LAN, dual stack', async (t) => {
  if (!requireRoot(t)) return;
  const c = await makeCluster(t, 'host-gw');
  await exercise(t, c);
  t.deepEqual(owned(c.nodes[0]).routes, [
    '10.244.2.0/24 via 192.168.50.22 dev eth0',
    '10.244.3.0/24 via 192.168.50.13 dev eth0',
    'fd00:244:2::/64 via fd00:50::12 dev eth0 metric 1024 pref medium',
    'fd00:244:3::/64 via fd00:50::13 dev eth0 metric 1024 pref medium',
  ]);
});

test('vxlan: three nodes behind a router (no shared L2), dual-stack pods over an IPv4 underlay', async (t) => {
  if (!requireRoot(t)) return;
  const c = await makeCluster(t, 'vxlan');
  // host-gw cannot work here: the next hop is not on a connected network
  t.regex(c.nodes[0].ns.try(['ip', 'route', 'add', '10.244.2.0/24', 'via', '172.16.2.2']).stderr, /Nexthop has invalid gateway|Network is unreachable/);
  await exercise(t, c);
  const n1 = c.nodes[0];
  const mac = (n: SimNode) => JSON.parse(n.ns.run(['ip', '-j', 'link', 'show', 'tscni.vxlan']))[0].address;
  const [m2, m3] = [mac(c.nodes[1]), mac(c.nodes[2])];
  t.deepEqual(owned(n1), {
    routes: [
      '10.244.2.0/24 via 10.244.2.0 dev tscni.vxlan onlink',
      '10.244.3.0/24 via 10.244.3.0 dev tscni.vxlan onlink',
      'fd00:244:2::/64 via fd00:244:2:: dev tscni.vxlan metric 1024 onlink pref medium',
      'fd00:244:3::/64 via fd00:244:3:: dev tscni.vxlan metric 1024 onlink pref medium',
    ],
    neigh: [`10.244.2.0 lladdr ${m2} PERMANENT`, `10.244.3.0 lladdr ${m3} PERMANENT`, `fd00:244:2:: lladdr ${m2} PERMANENT`, `fd00:244:3:: lladdr ${m3} PERMANENT`].sort(),
    fdb: [`${m2} dst 172.16.2.3 self permanent`, `${m3} dst 172.16.3.2 self permanent`].sort(),
  });
  t.regex(n1.ns.run(['ip', '-d', 'link', 'show', 'tscni.vxlan']), /mtu 1450 .*\n.*\n\s+vxlan id 1 local 172\.16\.1\.2 dev eth0 srcport 0 0 dstport 8472 nolearning/);
});

test('vxlan over an IPv6 underlay: FDB entries point at the nodes\' IPv6 addresses, MTU 1500 - 70', async (t) => {
  if (!requireRoot(t)) return;
  const c = await makeCluster(t, 'vxlan', { underlay6: true });
  c.writePeers(c.nodes);
  for (const n of c.nodes) c.startAgent(n);
  await within(5000, 'every agent synced', () => c.nodes.every((n) => c.status(n)?.lastSync));
  await mesh(t, c, c.nodes);
  const [n1, n2, n3] = c.nodes;
  t.deepEqual(owned(n1).fdb.map((l) => l.split(' ').slice(1).join(' ')).sort(), ['dst fd00:50::12 self permanent', 'dst fd00:50::13 self permanent']);
  t.regex(n1.ns.run(['ip', '-d', 'link', 'show', 'tscni.vxlan']), /mtu 1430 .*\n.*\n\s+vxlan id 1 local fd00:50::11 dev eth0 /);
  t.is(seenSource(n3.pod, n2.pod6), n3.pod6);
});
