// A change among 1,000 peers costs the changed peers only: the peer table validates one peer, the delta plans one
// peer and writes one netlink request; clashes and changes of this node or the settings are left to the full pass.

import test from 'ava';
import * as config from '../../../lib/agent/config.ts';
import { planDelta } from '../../../lib/agent/delta.ts';
import { PeerTable } from '../../../lib/agent/peer-table.ts';
import { byPeer, plan, vxlanMac } from '../../../lib/agent/plan.ts';
import { applyDelta } from '../../../lib/agent/sync.ts';
import type { Rtnl } from '../../../lib/kernel/netlink.ts';
import { NLM_F } from '../../../lib/kernel/netlink-codec.ts';

const addr = (i: number) => `172.20.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
const cidr = (i: number) => `10.${1 + Math.floor(i / 256)}.${i % 256}.0/24`;
const self = { name: 'self', address: '172.20.0.1', podCIDRs: ['10.0.0.0/24'] };

function cluster(n: number, backend = 'host-gw') {
  const peers: Record<string, unknown>[] = [self, ...Array.from({ length: n }, (_, i) => ({ name: `peer${i}`, address: addr(i), podCIDRs: [cidr(i)] }))];
  const doc = () => JSON.parse(JSON.stringify({ node: 'self', backend, peers }));
  const cfg = config.parseAgentConfig(JSON.stringify(doc()));
  const table = new PeerTable(cfg, doc());
  const plans = byPeer(cfg, plan(cfg, { name: 'eth0', index: 2, mtu: 1500 }));
  return { peers, doc, table, plans };
}

/** An Rtnl stand-in that records each request (operation text and flags) and answers with nothing. */
function fakeRtnl() {
  const calls: { op: string; flags: number }[] = [];
  const rtnl = { request: async (op: string, _type: number, _parts: Buffer[], flags = 0) => (calls.push({ op, flags }), []) } as unknown as Rtnl;
  return { rtnl, calls };
}

for (const n of [100, 1000]) {
  test(`host-gw, ${n} peers: one peer moved is one peer validated, one planned, one netlink request`, async (t) => {
    const c = cluster(n);
    c.peers[1 + 42] = { ...c.peers[1 + 42], address: '172.20.250.9' };
    const d = c.table.update(c.doc())!;
    t.is(d.validated, 1);
    t.deepEqual(d.changes.map((x) => [x.name, x.before?.addresses, x.after?.addresses]), [['peer42', ['172.20.1.43'], ['172.20.250.9']]]);
    t.is(d.cfg.peers.length, n + 1);
    t.is(d.cfg.peers[43].addresses[0], '172.20.250.9');
    const p = planDelta(d.cfg, d.changes, c.plans);
    t.is(p.planned, 1);
    t.deepEqual(p.ops, [{ op: 'replace-route', route: { dst: '10.1.42.0', dstLen: 24, gw: '172.20.250.9', onlink: false, peer: 'peer42' } }]);
    t.deepEqual(p.nft, [], 'the pod CIDRs did not change: no nft transaction');
    const k = fakeRtnl();
    t.deepEqual(await applyDelta(k.rtnl, p, undefined), ['route 10.1.42.0/24 via 172.20.250.9 (peer42)']);
    t.deepEqual(k.calls, [{ op: 'replace route 10.1.42.0/24 via 172.20.250.9', flags: NLM_F.CREATE | NLM_F.REPLACE }]);
  });
}

test('a peer added among 1,000: its route is added exclusively (a foreign route there fails, and the full pass sorts it out); its CIDR joins the exemption', (t) => {
  const c = cluster(1000);
  c.peers.push({ name: 'new', address: '172.20.240.1', podCIDRs: ['10.200.0.0/24'] });
  const d = c.table.update(c.doc())!;
  t.is(d.validated, 1);
  const p = planDelta(d.cfg, d.changes, c.plans);
  t.deepEqual(p.ops, [{ op: 'replace-route', route: { dst: '10.200.0.0', dstLen: 24, gw: '172.20.240.1', onlink: false, peer: 'new' } }]);
  t.deepEqual([...p.newRoutes], ['10.200.0.0/24']);
  t.deepEqual(p.cidrs, { add: ['10.200.0.0/24'], del: [] });
  t.is(p.nft.filter((x) => 'add' in x && 'element' in (x as { add: object }).add).length, 1);
});

test('a peer removed among 1,000: its route goes, its CIDR leaves the exemption; nothing validated or planned', async (t) => {
  const c = cluster(1000);
  c.peers.splice(1 + 7, 1);
  const d = c.table.update(c.doc())!;
  t.is(d.validated, 0);
  const p = planDelta(d.cfg, d.changes, c.plans);
  t.is(p.planned, 0);
  t.deepEqual(p.ops, [{ op: 'delete-route', dst: '10.1.7.0', dstLen: 24 }]);
  t.deepEqual(p.cidrs, { add: [], del: ['10.1.7.0/24'] });
  t.deepEqual([...p.plans], [['peer7', undefined]]);
  const k = fakeRtnl();
  await applyDelta(k.rtnl, { ...p, nft: [] }, undefined);
  t.deepEqual(k.calls.map((x) => x.op), ['delete route 10.1.7.0/24']);
});

test('vxlan, 1,000 peers: a moved peer rewrites its FDB entry only (its MAC, neighbour and route stay)', async (t) => {
  const c = cluster(1000, 'vxlan');
  c.peers[1 + 500] = { ...c.peers[1 + 500], address: '172.20.250.1' };
  const d = c.table.update(c.doc())!;
  const p = planDelta(d.cfg, d.changes, c.plans, 9);
  const mac = vxlanMac({ name: 'peer500', addresses: [], podCIDRs: [] });
  t.deepEqual(p.ops, [
    { op: 'delete-fdb', mac, dst: '172.20.3.1' },
    { op: 'replace-fdb', fdb: { mac, dst: '172.20.250.1', peer: 'peer500' } },
  ]);
  const k = fakeRtnl();
  await applyDelta(k.rtnl, p, 9);
  t.is(k.calls.length, 2);
});

test('two peers swapping pod CIDRs in one step is a valid delta; the swap is written as two route replacements', (t) => {
  const c = cluster(1000);
  c.peers[1] = { ...c.peers[1], podCIDRs: [cidr(1)] };
  c.peers[2] = { ...c.peers[2], podCIDRs: [cidr(0)] };
  const d = c.table.update(c.doc())!;
  t.is(d.validated, 2);
  const p = planDelta(d.cfg, d.changes, c.plans);
  t.deepEqual(p.ops.map((o) => o.op === 'replace-route' && `${o.route.dst} via ${o.route.gw}`), ['10.1.1.0 via 172.20.1.1', '10.1.0.0 via 172.20.1.2']);
  t.deepEqual(p.cidrs, { add: [], del: [] });
});

test('what only the full parse can decide returns undefined and leaves the table as it was', (t) => {
  const c = cluster(1000);
  const undecided = (mutate: (peers: Record<string, unknown>[]) => void, over: Record<string, unknown> = {}) => {
    const peers = JSON.parse(JSON.stringify(c.peers));
    mutate(peers);
    t.is(c.table.update({ ...c.doc(), peers, ...over }), undefined);
  };
  undecided((p) => (p[5] = { ...p[5], podCIDRs: ['10.1.9.128/25'] })); // inside peer9's 10.1.9.0/24
  undecided((p) => (p[5] = { ...p[5], address: addr(9) })); // another node's address
  undecided((p) => (p[5] = { ...p[5], podCIDRs: ['10.300.0.0/24'] })); // not a CIDR: the full parse words it
  undecided((p) => p.push({ ...p[3] })); // a name twice
  undecided((p) => (p[0] = { ...p[0], address: '172.20.0.2' })); // this node changed
  undecided(() => {}, { backend: 'vxlan' }); // the settings changed
  // The table is untouched: a plain change still applies as a one-peer delta.
  c.peers[1 + 3] = { ...c.peers[1 + 3], address: '172.20.250.3' };
  t.is(c.table.update(c.doc())!.validated, 1);
});

test('the full parse words the error the delta declined', (t) => {
  const c = cluster(10);
  c.peers[1 + 5] = { ...c.peers[1 + 5], podCIDRs: ['10.1.9.128/25'] };
  t.is(c.table.update(c.doc()), undefined);
  t.throws(() => config.parseAgentConfig(JSON.stringify(c.doc())), { message: 'peers[10].podCIDRs[0] "10.1.9.0/24": overlaps peers[6].podCIDRs[0] (peer5) "10.1.9.128/25"' });
});
