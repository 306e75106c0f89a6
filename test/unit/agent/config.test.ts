// The peers file: defaults, normalisation, and every refusal naming its field and value.

import test from 'ava';
import { parseAgentConfig } from '../../../lib/agent/config.ts';

const peers = [
  { name: 'n1', address: ['192.168.50.11', 'fd00:50::11'], podCIDRs: ['10.244.1.0/24', 'fd00:244:1::/64'] },
  { name: 'n2', address: ['192.168.50.12', 'fd00:50::12'], podCIDRs: ['10.244.2.0/24'] },
];
const parse = (o: Record<string, unknown>, node?: string) => parseAgentConfig(JSON.stringify({ node: 'n1', peers, ...o }), node);

test('defaults: host-gw, VNI 1, port 8472; addresses become a list; --node overrides the file', (t) => {
  t.deepEqual(parse({}), {
    node: 'n1', backend: 'host-gw', vxlan: { vni: 1, port: 8472 },
    peers: [
      { name: 'n1', addresses: ['192.168.50.11', 'fd00:50::11'], podCIDRs: ['10.244.1.0/24', 'fd00:244:1::/64'] },
      { name: 'n2', addresses: ['192.168.50.12', 'fd00:50::12'], podCIDRs: ['10.244.2.0/24'] },
    ],
  });
  t.is(parse({}, 'n2').node, 'n2');
  t.deepEqual(parse({ backend: 'vxlan', vxlan: { vni: 42, port: 4789, device: 'eth0', mtu: 1400 } }).vxlan, { vni: 42, port: 4789, device: 'eth0', mtu: 1400 });
  t.true(Object.isFrozen(parse({})));
});

const refusals: [string, Record<string, unknown>, string][] = [
  ['no CIDR', { peers: [peers[0], { name: 'n3', address: '192.168.50.13', podCIDRs: [] }] }, 'peers[1].podCIDRs []: node "n3" needs a pod CIDR (one per family)'],
  ['missing CIDRs', { peers: [peers[0], { name: 'n3', address: '192.168.50.13' }] }, 'peers[1].podCIDRs undefined: node "n3" needs a pod CIDR (one per family)'],
  ['overlap', { peers: [...peers, { name: 'n3', address: '192.168.50.13', podCIDRs: ['10.244.1.128/25'] }] }, 'peers[2].podCIDRs[0] "10.244.1.128/25": overlaps peers[0].podCIDRs[0] (n1) "10.244.1.0/24"'],
  ['host bits', { peers: [peers[0], { name: 'n3', address: '192.168.50.13', podCIDRs: ['10.244.3.1/24'] }] }, 'peers[1].podCIDRs[0] "10.244.3.1/24": host bits set (the network is 10.244.3.0/24)'],
  ['two v4 CIDRs', { peers: [peers[0], { name: 'n3', address: '192.168.50.13', podCIDRs: ['10.244.3.0/24', '10.244.4.0/24'] }] }, 'peers[1].podCIDRs ["10.244.3.0/24","10.244.4.0/24"]: at most one CIDR per family'],
  ['bad address', { peers: [peers[0], { name: 'n3', address: '192.168.50.300', podCIDRs: ['10.244.3.0/24'] }] }, 'peers[1].address "192.168.50.300": not an IP address'],
  ['same address', { peers: [peers[0], { name: 'n3', address: '192.168.50.11', podCIDRs: ['10.244.3.0/24'] }] }, 'peers[1].address "192.168.50.11": also the address of peers[0] (n1)'],
  ['same name', { peers: [peers[0], { ...peers[1], name: 'n1' }] }, 'peers[1].name "n1": also the name of peers[0]'],
  ['VNI out of range', { backend: 'vxlan', vxlan: { vni: 16777216 } }, 'vxlan.vni 16777216: must be an integer 1-16777215'],
  ['VNI zero', { backend: 'vxlan', vxlan: { vni: 0 } }, 'vxlan.vni 0: must be an integer 1-16777215'],
  ['port', { backend: 'vxlan', vxlan: { port: 70000 } }, 'vxlan.port 70000: must be an integer 1-65535'],
  ['device name', { backend: 'vxlan', vxlan: { device: 'a/b' } }, 'vxlan.device "a/b": '],
  ['backend', { backend: 'udp' }, 'backend "udp": must be "host-gw" or "vxlan"'],
  ['node not listed', { node: 'n9' }, 'node "n9": not among peers[].name (n1, n2); list this node too'],
  ['host-gw family', { peers: [peers[0], { name: 'n3', address: '192.168.50.13', podCIDRs: ['fd00:244:3::/64'] }] }, 'peers[1].podCIDRs[0] "fd00:244:3::/64": host-gw needs an address of the same family in peers[1].address'],
  ['vxlan underlay family', { backend: 'vxlan', peers: [peers[0], { name: 'n3', address: 'fd00:50::13', podCIDRs: ['10.244.3.0/24'] }] }, 'peers[1].address "fd00:50::13": the vxlan underlay is IPv4 (this node\'s first address 192.168.50.11)'],
];

for (const [what, o, msg] of refusals) {
  test(`refused: ${what}`, (t) => {
    const err = t.throws(() => parse(o));
    t.true(err!.message.startsWith(msg), err!.message);
  });
}

test('refused: not JSON, not an object', (t) => {
  t.regex(t.throws(() => parseAgentConfig('{'))!.message, /^not JSON: /);
  t.is(t.throws(() => parseAgentConfig('[]'))!.message, 'must be a JSON object {node, backend, peers}');
});
