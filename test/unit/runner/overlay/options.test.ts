// network create --driver overlay: the flags as the agent's peers document, and every refusal worded with the flag
// and the value that caused it (exit 2).

import test from 'ava';
import { overlayConfig, parsePeerFlag, peersDocument, splitOpts, OVERLAY_OPTS } from '../../../../lib/runner/overlay/options.ts';
import { UsageError } from '../../../../lib/runner/cli/errors.ts';

const base = { subnet: '10.244.1.0/24', opts: { node: 'a', address: '192.168.60.1' } };

test('the peers document: this host first, then each --peer; vxlan options under vxlan', (t) => {
  t.deepEqual(peersDocument({ ...base, peers: ['b=192.168.60.2,10.244.2.0/24', 'c=192.168.60.3+fd00::3,10.244.3.0/24,fd00:244:3::/64'], opts: { ...base.opts, vni: '42', port: '4789' } }), {
    node: 'a', backend: 'vxlan', vxlan: { vni: 42, port: 4789 },
    peers: [
      { name: 'a', address: '192.168.60.1', podCIDRs: ['10.244.1.0/24'] },
      { name: 'b', address: '192.168.60.2', podCIDRs: ['10.244.2.0/24'] },
      { name: 'c', address: ['192.168.60.3', 'fd00::3'], podCIDRs: ['10.244.3.0/24', 'fd00:244:3::/64'] },
    ],
  });
  const { cfg } = overlayConfig({ ...base, peers: ['b=192.168.60.2,10.244.2.0/24'], opts: { ...base.opts, backend: 'host-gw' } });
  t.deepEqual([cfg.node, cfg.backend, cfg.peers.map((p) => p.name)], ['a', 'host-gw', ['a', 'b']]);
});

test('--opt keys and --peer shapes', (t) => {
  t.deepEqual(splitOpts(['backend=host-gw', 'vni=7'], OVERLAY_OPTS), { backend: 'host-gw', vni: '7' });
  t.is(t.throws(() => splitOpts(['icc=false'], OVERLAY_OPTS), { instanceOf: UsageError })!.message, 'invalid --opt "icc=false": the overlay driver takes backend=..., vni=..., port=..., device=..., mtu=..., node=..., address=...');
  t.deepEqual(parsePeerFlag('b=10.0.0.2,10.244.2.0/24'), { name: 'b', address: '10.0.0.2', podCIDRs: ['10.244.2.0/24'] });
  t.is(t.throws(() => parsePeerFlag('10.0.0.2'))!.message, 'invalid --peer "10.0.0.2": expected NAME=ADDR,CIDR (e.g. hostb=192.168.50.12,10.244.2.0/24)');
});

const refused: [string, string[], Record<string, string>, string][] = [
  ['a peer with no CIDR', ['b=192.168.60.2'], {}, 'invalid --peer "b=192.168.60.2": no CIDR for peer "b" (expected NAME=ADDR,CIDR)'],
  ['a peer address that is not an IP', ['b=b.lan,10.244.2.0/24'], {}, 'invalid --peer "b=b.lan,10.244.2.0/24": address "b.lan" is not an IP address'],
  ['overlapping CIDRs', ['b=192.168.60.2,10.244.0.0/16'], {}, 'network create --driver overlay: --peer "b=192.168.60.2,10.244.0.0/16" (CIDR) "10.244.0.0/16": overlaps --subnet (a) "10.244.1.0/24"'],
  ['two peers overlapping', ['b=192.168.60.2,10.244.2.0/24', 'c=192.168.60.3,10.244.2.128/25'], {}, 'network create --driver overlay: --peer "c=192.168.60.3,10.244.2.128/25" (CIDR) "10.244.2.128/25": overlaps --peer "b=192.168.60.2,10.244.2.0/24" (CIDR) (b) "10.244.2.0/24"'],
  ['VNI out of range', ['b=192.168.60.2,10.244.2.0/24'], { vni: '16777216' }, 'network create --driver overlay: --opt vni 16777216: must be an integer 1-16777215'],
  ['VNI not a number', ['b=192.168.60.2,10.244.2.0/24'], { vni: 'x' }, 'invalid --opt vni=x: must be an integer'],
  ['a peer with this host\'s address', ['b=192.168.60.1,10.244.2.0/24'], {}, 'network create --driver overlay: --peer "b=192.168.60.1,10.244.2.0/24" (address) "192.168.60.1": also the address of this host (a)'],
  ['host bits set', ['b=192.168.60.2,10.244.2.1/24'], {}, 'network create --driver overlay: --peer "b=192.168.60.2,10.244.2.1/24" (CIDR) "10.244.2.1/24": host bits set (the network is 10.244.2.0/24)'],
  ['an unknown backend', ['b=192.168.60.2,10.244.2.0/24'], { backend: 'geneve' }, 'invalid --opt backend=geneve: must be vxlan or host-gw'],
  ['vxlan options with host-gw', ['b=192.168.60.2,10.244.2.0/24'], { backend: 'host-gw', vni: '5' }, 'invalid --opt vni: only for backend=vxlan'],
  ['no address of this host', ['b=192.168.60.2,10.244.2.0/24'], { address: '' }, 'network create --driver overlay: --opt address=ADDR (this host\'s address on the network the peers share) is required'],
];

for (const [what, peers, opts, msg] of refused) {
  test(`refused: ${what}`, (t) => {
    const err = t.throws(() => overlayConfig({ ...base, peers, opts: { ...base.opts, ...opts } }), { instanceOf: UsageError });
    t.is(err!.message, msg);
    t.is((err as UsageError).exitCode, 2);
  });
}
