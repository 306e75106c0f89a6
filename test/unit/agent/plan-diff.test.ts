// The wanted state (host-gw routes; vxlan device, FDB, neighbours, onlink routes), the diff against the kernel, and
// the masquerade exemption batch: exact values.

import test from 'ava';
import { parseAgentConfig } from '../../../lib/agent/config.ts';
import { diff } from '../../../lib/agent/diff.ts';
import { plan, vxlanMac } from '../../../lib/agent/plan.ts';
import { clusterCidrBatch, listedAgentCidrs } from '../../../lib/nft/cluster-cidrs.ts';

const file = (backend: string) => JSON.stringify({
  node: 'n1', backend,
  peers: [
    { name: 'n1', address: ['192.168.50.11', 'fd00:50::11'], podCIDRs: ['10.244.1.0/24', 'fd00:244:1::/64'] },
    { name: 'n2', address: ['192.168.50.12', 'fd00:50::12'], podCIDRs: ['10.244.2.0/24', 'fd00:244:2::/64'] },
    { name: 'n3', address: '192.168.50.13', podCIDRs: ['10.244.3.0/24'], vxlanMAC: '0a:00:00:00:00:03' },
  ],
});

test('host-gw: one route per remote pod CIDR via that node\'s address of the same family', (t) => {
  t.deepEqual(plan(parseAgentConfig(file('host-gw'))), {
    routes: [
      { dst: '10.244.2.0', dstLen: 24, gw: '192.168.50.12', onlink: false, peer: 'n2' },
      { dst: 'fd00:244:2::', dstLen: 64, gw: 'fd00:50::12', onlink: false, peer: 'n2' },
      { dst: '10.244.3.0', dstLen: 24, gw: '192.168.50.13', onlink: false, peer: 'n3' },
    ],
    neigh: [], fdb: [],
    clusterCidrs: ['10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24', 'fd00:244:1::/64', 'fd00:244:2::/64'],
  });
});

test('vxlan: the remote MAC and its pod CIDR\'s network address as an onlink next hop; MTU = underlay - 50', (t) => {
  const mac2 = vxlanMac({ name: 'n2', addresses: [], podCIDRs: [] });
  t.is(mac2, vxlanMac({ name: 'n2', addresses: ['1.2.3.4'], podCIDRs: [] }), 'derived from the name only');
  t.regex(mac2, /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/, 'locally administered unicast');
  const p = plan(parseAgentConfig(file('vxlan')), { name: 'eth0', index: 2, mtu: 1500 });
  t.deepEqual(p.vxlan, { vni: 1, port: 8472, local: '192.168.50.11', mtu: 1450, mac: vxlanMac({ name: 'n1', addresses: [], podCIDRs: [] }), addrs: [{ ip: '10.244.1.0', prefixLen: 32 }, { ip: 'fd00:244:1::', prefixLen: 128 }] });
  t.deepEqual(p.fdb, [{ mac: mac2, dst: '192.168.50.12', peer: 'n2' }, { mac: '0a:00:00:00:00:03', dst: '192.168.50.13', peer: 'n3' }]);
  t.deepEqual(p.neigh, [{ ip: '10.244.2.0', mac: mac2, peer: 'n2' }, { ip: 'fd00:244:2::', mac: mac2, peer: 'n2' }, { ip: '10.244.3.0', mac: '0a:00:00:00:00:03', peer: 'n3' }]);
  t.deepEqual(p.routes.map((r) => `${r.dst}/${r.dstLen} via ${r.gw} ${r.onlink}`), ['10.244.2.0/24 via 10.244.2.0 true', 'fd00:244:2::/64 via fd00:244:2:: true', '10.244.3.0/24 via 10.244.3.0 true']);
});

test('diff: nothing to do when the kernel matches; only differences otherwise, removals first', (t) => {
  const p = plan(parseAgentConfig(file('vxlan')), { name: 'eth0', index: 2, mtu: 1500 });
  const have = { routes: p.routes.map((r) => ({ ...r, oif: 7 })), neigh: p.neigh, fdb: p.fdb };
  t.deepEqual(diff(p, have, 7), []);
  const drifted = {
    routes: [...have.routes.slice(1), { dst: '10.244.9.0', dstLen: 24, gw: '10.244.9.0', oif: 7 }],
    neigh: [{ ip: '10.244.2.0', mac: '0a:00:00:00:00:99' }, ...p.neigh.slice(1)],
    fdb: [p.fdb[0], { mac: '0a:00:00:00:00:03', dst: '192.168.50.99' }],
  };
  t.deepEqual(diff(p, drifted, 7).map((o) => o.op + ' ' + JSON.stringify(Object.values(o)[1])), [
    'delete-route "10.244.9.0"',
    'delete-fdb "0a:00:00:00:00:03"',
    `replace-fdb ${JSON.stringify(p.fdb[1])}`,
    `replace-neigh ${JSON.stringify(p.neigh[0])}`,
    `replace-route ${JSON.stringify(p.routes[0])}`,
  ]);
  t.deepEqual(diff(p, { ...have, routes: have.routes.map((r) => ({ ...r, oif: 3 })) }, 7).length, 3, 'an onlink route on another link is replaced');
});

test('diff: a route to a wanted prefix that someone else owns is a conflict, never replaced', (t) => {
  const p = plan(parseAgentConfig(file('host-gw')));
  const ops = diff(p, { routes: [], neigh: [], fdb: [], foreign: [{ dst: '10.244.3.0', dstLen: 24, gw: '192.168.50.99', protocol: 4 }] });
  t.deepEqual(ops.map((o) => o.op), ['replace-route', 'replace-route', 'conflict']);
  t.deepEqual(ops[2], { op: 'conflict', route: p.routes[2], protocol: 4 });
});

test('cluster CIDR batch: declares the sets, deletes stale agent elements, adds missing ones with the agent comment', (t) => {
  t.deepEqual(clusterCidrBatch(['10.244.1.0/24'], ['10.244.1.0/24']), []);
  const T = { family: 'inet', table: 'tscni_bridge' };
  const b = clusterCidrBatch(['10.244.9.0/24'], ['10.244.1.0/24', 'fd00:244:1::/64']);
  t.deepEqual(b.slice(3), [
    { delete: { element: { ...T, name: 'nomasq4', elem: [{ prefix: { addr: '10.244.9.0', len: 24 } }] } } },
    { add: { element: { ...T, name: 'nomasq4', elem: [{ elem: { val: { prefix: { addr: '10.244.1.0', len: 24 } }, comment: 'tscni-agent' } }] } } },
    { add: { element: { ...T, name: 'nomasq6', elem: [{ elem: { val: { prefix: { addr: 'fd00:244:1::', len: 64 } }, comment: 'tscni-agent' } }] } } },
  ]);
  t.deepEqual(b[0], { add: { table: { family: 'inet', name: 'tscni_bridge' } } });
  t.deepEqual(listedAgentCidrs([
    { set: { ...T, name: 'nomasq4', elem: [{ elem: { val: { prefix: { addr: '10.244.1.0', len: 24 } }, comment: 'tscni-agent' } }, { elem: { val: { prefix: { addr: '10.9.0.0', len: 16 } }, comment: 'someone else' } }] } },
    { set: { ...T, name: 'masq4', elem: [{ elem: { val: '10.244.1.5', comment: 'tscni-agent' } }] } },
  ]), ['10.244.1.0/24']);
});
