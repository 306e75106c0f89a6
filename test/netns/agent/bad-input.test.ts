// tscni agent refuses bad peers files with a message naming the field and value, and changes nothing in the node's
// netns (links, addresses, routes, nftables); `tscni agent status` prints the last sync as a table and as JSON.

import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeNetns, requireRoot, type TestNetns } from '../../helpers/netns.ts';
import { NFT } from '../bridge/fixture.ts';
import { TSCNI } from './cluster.ts';

const good = {
  backend: 'host-gw',
  peers: [
    { name: 'n1', address: '192.168.50.11', podCIDRs: ['10.244.1.0/24'] },
    { name: 'n2', address: '192.168.50.12', podCIDRs: ['10.244.2.0/24'] },
  ],
};

const snapshot = (ns: TestNetns) => ['link', 'addr', 'route', '-6 route', 'neigh'].map((what) => ns.run(['ip', '-j', ...what.split(' ').reverse().filter(Boolean).reverse()]))
  .concat(ns.run([NFT, '-j', 'list', 'ruleset']).replace(/"version": "[^"]*"|"handle": \d+/g, ''));

const cases: [string, unknown, string][] = [
  ['a peer with no CIDR', { ...good, peers: [good.peers[0], { name: 'n2', address: '192.168.50.12', podCIDRs: [] }] }, 'peers[1].podCIDRs []: node "n2" needs a pod CIDR (one per family)'],
  ['overlapping CIDRs', { ...good, peers: [good.peers[0], { name: 'n2', address: '192.168.50.12', podCIDRs: ['10.244.0.0/16'] }] }, 'peers[1].podCIDRs[0] "10.244.0.0/16": overlaps peers[0].podCIDRs[0] (n1) "10.244.1.0/24"'],
  ['VNI out of range', { ...good, backend: 'vxlan', vxlan: { vni: 16777216 } }, 'vxlan.vni 16777216: must be an integer 1-16777215'],
  ['an unknown underlay device', { ...good, backend: 'vxlan', vxlan: { device: 'nope0' } }, 'vxlan.device "nope0": no such link in this network namespace'],
  ['a node address on no link', { ...good, backend: 'vxlan', peers: [{ ...good.peers[0], address: '192.168.77.1' }, good.peers[1]] }, 'peers[].address "192.168.77.1" of node "n1": not on any link here (set vxlan.device)'],
  ['not JSON', '{"peers": [', 'not JSON: '],
];

test('bad peers files: a clear error naming field and value, nothing changed', async (t) => {
  if (!requireRoot(t)) return;
  const ns = makeNetns(t, 'bad');
  const dir = mkdtempSync(join(tmpdir(), 'tscni-agent-bad-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  ns.run(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']); // no dummy module on these machines
  ns.run(['ip', 'addr', 'add', '192.168.50.11/24', 'dev', 'eth0']);
  ns.run(['ip', 'link', 'set', 'eth0', 'up']);
  const file = join(dir, 'peers.json');
  const agent = (content: unknown) => {
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return ns.try([TSCNI, 'agent', '--config', file, '--node', 'n1', '--state-dir', join(dir, 'state'), '--once']);
  };
  const first = agent(good);
  t.is(first.status, 0, first.stderr);
  t.is(ns.run(['ip', 'route', 'show', 'proto', '126']), '10.244.2.0/24 via 192.168.50.12 dev eth0 linkdown \n'); // eth0's peer stays down
  const before = snapshot(ns);
  for (const [what, content, msg] of cases) {
    const r = agent(content);
    t.is(r.status, 1, what);
    t.is(r.stdout, '', what);
    t.true(r.stderr.startsWith(`tscni: invalid peers file ${file}: ${msg}`), `${what}: ${r.stderr}`);
    t.deepEqual(snapshot(ns), before, `${what}: nothing changed`);
  }

  // status: the last good sync, as a table and as JSON
  const table = spawnSync(TSCNI, ['agent', 'status', '--state-dir', join(dir, 'state')], { encoding: 'utf8' });
  t.is(table.status, 0);
  const lines = table.stdout.split('\n');
  t.regex(lines[0], new RegExp(`^node n1   backend host-gw   pid \\d+   config ${file}$`));
  t.regex(lines[1], /^last sync \d{4}-\d\d-\d\dT[\d:.]+Z: 2 change\(s\)$/);
  t.deepEqual(lines.slice(2), [
    'PEER   ADDRESS         POD CIDRS       STATE    ENTRIES',
    'n1     192.168.50.11   10.244.1.0/24   self     0',
    'n2     192.168.50.12   10.244.2.0/24   synced   1',
    '',
  ]);
  const json = JSON.parse(spawnSync(TSCNI, ['agent', 'status', '--json', '--state-dir', join(dir, 'state')], { encoding: 'utf8' }).stdout);
  t.deepEqual(json.lastSync.changes, ['route 10.244.2.0/24 via 192.168.50.12 (n2)', 'masquerade exemption: 10.244.1.0/24 10.244.2.0/24']);
  t.deepEqual(json.peers[1], { name: 'n2', addresses: ['192.168.50.12'], podCIDRs: ['10.244.2.0/24'], state: 'synced', entries: 1 });
  const missing = spawnSync(TSCNI, ['agent', 'status', '--state-dir', join(dir, 'none')], { encoding: 'utf8' });
  t.deepEqual([missing.status, missing.stderr], [3, `tscni: no agent status in ${join(dir, 'none')} (is tscni agent running?)\n`]);
});

test('a peer the kernel refuses (next hop off-link) or whose prefix has someone else\'s route is reported; the others get their routes', async (t) => {
  if (!requireRoot(t)) return;
  const ns = makeNetns(t, 'offl');
  const dir = mkdtempSync(join(tmpdir(), 'tscni-agent-offlink-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  ns.run(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']);
  ns.run(['ip', 'addr', 'add', '192.168.50.11/24', 'dev', 'eth0']);
  ns.run(['ip', 'link', 'set', 'eth0', 'up']);
  const file = join(dir, 'peers.json');
  ns.run(['ip', 'route', 'add', '10.244.4.0/24', 'via', '192.168.50.99', 'proto', 'static']);
  const peers = [...good.peers, { name: 'n3', address: '10.1.1.1', podCIDRs: ['10.244.3.0/24'] }, { name: 'n4', address: '192.168.50.14', podCIDRs: ['10.244.4.0/24'] }];
  writeFileSync(file, JSON.stringify({ ...good, peers }));
  const r = ns.try([TSCNI, 'agent', '--config', file, '--node', 'n1', '--state-dir', join(dir, 'state'), '--once']);
  t.is(r.status, 1);
  const why4 = 'route 10.244.4.0/24 exists and is not tscni\'s (protocol 4): left alone';
  t.true(r.stderr.includes(`tscni agent: not synced: n3: replace route 10.244.3.0/24 via 10.1.1.1: ENETUNREACH; n4: ${why4}\n`), r.stderr);
  t.is(ns.run(['ip', 'route', 'show', '10.244.4.0/24']), '10.244.4.0/24 via 192.168.50.99 dev eth0 proto static linkdown \n', 'the foreign route is untouched');
  t.is(ns.run(['ip', 'route', 'show', 'proto', '126']), '10.244.2.0/24 via 192.168.50.12 dev eth0 linkdown \n');
  const st = JSON.parse(spawnSync(TSCNI, ['agent', 'status', '--json', '--state-dir', join(dir, 'state')], { encoding: 'utf8' }).stdout);
  t.deepEqual(st.peers.map((p: any) => [p.name, p.state]), [['n1', 'self'], ['n2', 'synced'], ['n3', 'error: replace route 10.244.3.0/24 via 10.1.1.1: ENETUNREACH'], ['n4', `error: ${why4}`]]);
  t.is(st.lastSync.error, `n3: replace route 10.244.3.0/24 via 10.1.1.1: ENETUNREACH; n4: ${why4}`);
});
