// Unit tests of the pure L3 step: gateways, default routes, dns replacement, route gateways, STATUS's ruleset reading.

import test from 'ava';
import { buildL3, gatewayAddrs, kernelRoute } from '../../../plugins/bridge/addresses.ts';
import { firstHost, splitCidr } from '../../../lib/net/ip.ts';
import { parseBridgeConfig } from '../../../plugins/bridge/config.ts';
import { forwardDropReason } from '../../../plugins/bridge/status-gc.ts';

const cfg = (extra: Record<string, unknown> = {}) => parseBridgeConfig({ cniVersion: '1.0.0', name: 'n', type: 'bridge', ipam: { type: 'host-local' }, ...extra });

test('firstHost is network + 1 for v4 and v6', (t) => {
  t.is(firstHost(splitCidr('10.1.2.77/24')), '10.1.2.1');
  t.is(firstHost(splitCidr('10.1.255.7/16')), '10.1.0.1');
  t.is(firstHost(splitCidr('fd00:1::99/64')), 'fd00:1::1');
});

test('buildL3: interface 2, gateway filled when isGateway, default routes when isDefaultGateway, config dns replaces IPAM dns', (t) => {
  const ipam = { ips: [{ address: '10.1.0.5/24' }, { address: 'fd00::5/64', gateway: 'fd00::fe' }], dns: { nameservers: ['1.1.1.1'] } };
  t.deepEqual(buildL3(cfg(), ipam), { ips: [{ address: '10.1.0.5/24', interface: 2 }, { address: 'fd00::5/64', gateway: 'fd00::fe', interface: 2 }], dns: { nameservers: ['1.1.1.1'] } });
  const l3 = buildL3(cfg({ isDefaultGateway: true, dns: { nameservers: ['10.0.0.53'] } }), ipam);
  t.deepEqual(l3, {
    ips: [{ address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 2 }, { address: 'fd00::5/64', gateway: 'fd00::fe', interface: 2 }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }, { dst: '::/0', gw: 'fd00::fe' }],
    dns: { nameservers: ['10.0.0.53'] },
  });
  t.deepEqual(gatewayAddrs(cfg({ isGateway: true }), l3), [{ ip: '10.1.0.1', prefixLen: 24, v6: false }, { ip: 'fd00::fe', prefixLen: 64, v6: true }]);
  t.deepEqual(gatewayAddrs(cfg(), l3), []);
  const keep = buildL3(cfg({ isDefaultGateway: true }), { ips: [{ address: '10.1.0.5/24' }], routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.254' }] });
  t.deepEqual(keep.routes, [{ dst: '0.0.0.0/0', gw: '10.1.0.254' }], 'an IPAM default route is kept, not doubled');
});

test('kernelRoute: a route without gw takes the family gateway', (t) => {
  const ips = [{ address: '10.1.0.5/24', gateway: '10.1.0.1' }];
  t.like(kernelRoute({ dst: '192.0.2.0/24' }, ips, 7), { dst: '192.0.2.0', dstLen: 24, gw: '10.1.0.1', oif: 7 });
  t.like(kernelRoute({ dst: 'fd01::/64' }, ips, 7), { dst: 'fd01::', dstLen: 64, gw: undefined });
});

test('forwardDropReason: iptables-nft FORWARD policy drop unless a rule accepts the bridge', (t) => {
  const chain = { chain: { family: 'ip', table: 'filter', name: 'FORWARD', policy: 'drop' } };
  t.is(forwardDropReason([chain], 'cni0'),
    'the iptables FORWARD chain (nft table ip filter) has policy DROP and no rule accepts bridge cni0: containers cannot reach beyond the host (add e.g. `iptables -I FORWARD -i cni0 -j ACCEPT` and the reverse with -o)');
  const accept = { rule: { family: 'ip', table: 'filter', chain: 'FORWARD', expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'cni0' } }, { accept: null }] } };
  t.is(forwardDropReason([chain, accept], 'cni0'), undefined);
  t.is(forwardDropReason([{ chain: { ...chain.chain, policy: 'accept' } }], 'cni0'), undefined);
  t.is(forwardDropReason([], 'cni0'), undefined);
});
