// What a network's resolver answers, from container states; who may use which name; upstreams; resolv.conf.

import test from 'ava';
import { attachmentsOf, endpointsOf, inSubnet, lookup, nameserversFor, resolverEndpoints, subnetOf } from '../../../../lib/runner/dns/records.ts';
import { checkAliasesFree, checkNamesFree } from '../../../../lib/runner/dns/names.ts';
import { upstreamServers } from '../../../../lib/runner/dns/manager.ts';
import { resolvConfWith } from '../../../../lib/runner/container/etc-files.ts';
import type { ContainerState } from '../../../../lib/runner/container/store.ts';

const settings = (ip: string) => ({ IPAddress: ip, IPPrefixLen: 24, Gateway: '', MacAddress: '' });
const ctr = (id: string, name: string, network: string, ip: string, more: Partial<ContainerState> = {}) =>
  ({ id: id.repeat(64 / id.length), name, network, status: 'running', networkSettings: settings(ip), ...more }) as ContainerState;

const A = ctr('a', 'Alpha', 'dnet', '10.1.0.2', { aliases: ['DB'] });
const B = ctr('b', 'beta', 'dnet', '10.1.0.3', { extraNetworks: [{ network: 'enet', ifName: 'eth1', settings: settings('10.2.0.3') }] });
const C = ctr('c', 'gamma', 'enet', '10.2.0.4');
const H = ctr('d', 'hosty', 'host', '');
const atts = [A, B, C, H].flatMap(attachmentsOf);
const DNS = new Set(['dnet', 'enet']);

test('attachments: name, short and full id, aliases on the first network only; host mode has none', (t) => {
  t.deepEqual(attachmentsOf(B), [
    { network: 'dnet', ips: ['10.1.0.3'], names: ['beta', 'bbbbbbbbbbbb', 'b'.repeat(64)], container: 'b'.repeat(64) },
    { network: 'enet', ips: ['10.2.0.3'], names: ['beta', 'bbbbbbbbbbbb', 'b'.repeat(64)], container: 'b'.repeat(64) },
  ]);
  t.deepEqual(attachmentsOf(A)[0].names, ['alpha', 'aaaaaaaaaaaa', 'a'.repeat(64), 'db']);
  t.deepEqual(attachmentsOf(H), []);
});

test('lookup: across the networks the client shares; case-insensitive; unknown names are not local', (t) => {
  t.deepEqual(lookup(atts, 'dnet', '10.1.0.3', 'alpha', DNS), ['10.1.0.2']);
  t.deepEqual(lookup(atts, 'dnet', '10.1.0.3', 'db.', DNS), ['10.1.0.2']);
  t.deepEqual(lookup(atts, 'dnet', '10.1.0.3', 'aaaaaaaaaaaa', DNS), ['10.1.0.2']);
  // beta is on both networks: it finds gamma on enet; gamma finds beta's enet address only.
  t.deepEqual(lookup(atts, 'dnet', '10.1.0.3', 'gamma', DNS), ['10.2.0.4']);
  t.deepEqual(lookup(atts, 'enet', '10.2.0.4', 'beta', DNS), ['10.2.0.3']);
  t.is(lookup(atts, 'enet', '10.2.0.4', 'alpha', DNS), undefined);
  // alpha asking for beta: its own network's address first.
  t.deepEqual(lookup(atts, 'dnet', '10.1.0.2', 'beta', DNS), ['10.1.0.3']);
  // Not a DNS network: nothing from it.
  t.is(lookup(atts, 'dnet', '10.1.0.3', 'gamma', new Set(['dnet'])), undefined);
  // An unknown client in the subnet: the resolver's own network.
  t.deepEqual(lookup(atts, 'dnet', '10.1.0.99', 'alpha', DNS), ['10.1.0.2']);
  t.is(lookup(atts, 'dnet', '10.1.0.3', 'example.org', DNS), undefined);
});

test('dual stack: both addresses answer (the codec keeps the asked family); a v6 client is known', (t) => {
  const D = ctr('f', 'dual', 'dnet', '10.1.0.9', { networkSettings: { ...settings('10.1.0.9'), GlobalIPv6Address: 'fd00::9' } });
  const all = [...atts, ...attachmentsOf(D)];
  t.deepEqual(lookup(all, 'dnet', '10.1.0.3', 'dual', DNS), ['10.1.0.9', 'fd00::9']);
  t.deepEqual(lookup(all, 'dnet', 'fd00::9', 'alpha', DNS), ['10.1.0.2']);
});

test('subnets', (t) => {
  t.true(inSubnet('10.1.0.255', '10.1.0.0/24'));
  t.false(inSubnet('10.1.1.0', '10.1.0.0/24'));
  t.false(inSubnet('fd00::1', '10.1.0.0/24'));
  t.true(inSubnet('192.168.3.4', '192.168.0.0/16'));
  t.is(subnetOf('10.99.81.17', 24), '10.99.81.0/24');
  t.is(subnetOf('172.20.200.9', 12), '172.16.0.0/12');
  t.true(inSubnet('fd00:1::9', 'fd00:1::/64'));
  t.false(inSubnet('fd00:2::9', 'fd00:1::/64'));
  t.false(inSubnet('10.1.0.2', 'fd00:1::/64'));
  t.true(inSubnet('::ffff:10.1.0.2', '10.1.0.0/24'));
  t.false(inSubnet('not-an-ip', '10.1.0.0/24'));
  t.is(subnetOf('fd99:81::1c', 64), 'fd99:81::/64');
});

test('resolverEndpoints: the IPv4 gateway, then the IPv6 one of a dual-stack result, with their subnets', (t) => {
  const dual = { ips: [{ address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 1 }, { address: 'fd00:1::5/64', gateway: 'fd00:1::1', interface: 1 }] };
  t.deepEqual(resolverEndpoints(dual), { gateways: ['10.1.0.1', 'fd00:1::1'], cidrs: ['10.1.0.0/24', 'fd00:1::/64'] });
  t.deepEqual(resolverEndpoints({ ips: [dual.ips[0]] }), { gateways: ['10.1.0.1'], cidrs: ['10.1.0.0/24'] });
  // IPv6 only: no IPv4 gateway, no resolver (names need an IPv4 range, as documented).
  t.deepEqual(resolverEndpoints({ ips: [dual.ips[1]] }), { gateways: [], cidrs: [] });
  t.deepEqual(resolverEndpoints(undefined), { gateways: [], cidrs: [] });
});

test('checkNamesFree: an alias another live container answers to on the same network is refused', (t) => {
  const gamma = ctr('e', 'new', 'dnet', '', { aliases: ['db'], status: 'created' });
  t.throws(() => checkNamesFree([A, B, gamma], gamma), { message: 'network alias "db" is already in use on network dnet by container Alpha' });
  t.throws(() => checkNamesFree([A, B, { ...gamma, aliases: ['BETA'] }], { ...gamma, aliases: ['BETA'] }), { message: 'network alias "BETA" is already in use on network dnet by container beta' });
  t.notThrows(() => checkNamesFree([{ ...A, status: 'exited' }, gamma], gamma));
  t.notThrows(() => checkNamesFree([A, { ...gamma, network: 'enet' }], { ...gamma, network: 'enet' }));
  t.notThrows(() => checkNamesFree([A, { ...gamma, aliases: ['new'] }], { ...gamma, aliases: ['new'] }));
  const named = { ...gamma, name: 'db', aliases: undefined };
  t.throws(() => checkNamesFree([A, named], named), { message: 'the name "db" is a network alias of container Alpha on network dnet' });
});

test('upstreams: TSCNI_DNS_UPSTREAM or resolv.conf, never the gateway; resolv.conf keeps search and options', (t) => {
  const rc = '# x\nnameserver 127.0.0.53\nnameserver 10.1.0.1\nsearch corp.example\noptions edns0 trust-ad\n';
  t.deepEqual(upstreamServers({}, rc, ['10.1.0.1']), ['127.0.0.53']);
  t.deepEqual(upstreamServers({ TSCNI_DNS_UPSTREAM: '10.9.0.2, 10.9.0.3' }, rc, ['10.1.0.1', 'fd00::1']), ['10.9.0.2', '10.9.0.3']);
  t.is(resolvConfWith(rc, ['10.1.0.1']), 'nameserver 10.1.0.1\nsearch corp.example\noptions edns0 trust-ad\n');
});

test('connect --alias: the alias is a name on that network only; a clash there is refused, elsewhere not', (t) => {
  const X = ctr('e', 'x', 'dnet', '10.1.0.5', { extraNetworks: [{ network: 'enet', ifName: 'eth1', aliases: ['Web2'], settings: settings('10.2.0.5') }] });
  t.deepEqual(attachmentsOf(X).map((a) => [a.network, a.names.slice(3)]), [['dnet', []], ['enet', ['web2']]]);
  const all = [A, C, X].flatMap(attachmentsOf);
  t.deepEqual(lookup(all, 'enet', '10.2.0.4', 'web2', DNS), ['10.2.0.5']);
  t.is(lookup(all, 'dnet', '10.1.0.2', 'web2', DNS), undefined);
  t.throws(() => checkAliasesFree([A, C, X], C, 'enet', ['WEB2']), { message: 'network alias "WEB2" is already in use on network enet by container x' });
  t.throws(() => checkAliasesFree([A, C, X], C, 'enet', ['x']), { message: 'network alias "x" is already in use on network enet by container x' });
  t.notThrows(() => checkAliasesFree([A, C, X], A, 'dnet', ['web2']));
  t.notThrows(() => checkAliasesFree([A, C, { ...X, status: 'exited' }], C, 'enet', ['web2']));
});

test('endpointsOf: a stored attachment gives the same gateways and subnets as its CNI result', (t) => {
  const dual = { IPAddress: '10.1.0.5', IPPrefixLen: 24, Gateway: '10.1.0.1', MacAddress: '', GlobalIPv6Address: 'fd00:1::5', GlobalIPv6PrefixLen: 64, IPv6Gateway: 'fd00:1::1' };
  t.deepEqual(endpointsOf(dual), { gateways: ['10.1.0.1', 'fd00:1::1'], cidrs: ['10.1.0.0/24', 'fd00:1::/64'] });
  // A state written before the IPv6 gateway was kept: the IPv4 side only.
  t.deepEqual(endpointsOf({ ...dual, IPv6Gateway: undefined }), { gateways: ['10.1.0.1'], cidrs: ['10.1.0.0/24'] });
  t.deepEqual(endpointsOf({ IPAddress: 'fd00:1::5', IPPrefixLen: 64, Gateway: 'fd00:1::1', MacAddress: '' }), { gateways: [], cidrs: [] });
  t.deepEqual(endpointsOf({ IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '' }), { gateways: [], cidrs: [] });
  t.deepEqual(endpointsOf(undefined), { gateways: [], cidrs: [] });
});

test('nameserversFor: the first attachment whose resolver runs, listed once (both addresses when dual stack)', (t) => {
  const s = (n: number, v6 = false) => ({ IPAddress: `10.${n}.0.5`, IPPrefixLen: 24, Gateway: `10.${n}.0.1`, MacAddress: '', ...(v6 ? { GlobalIPv6Address: `fd00:${n}::5`, GlobalIPv6PrefixLen: 64, IPv6Gateway: `fd00:${n}::1` } : {}) });
  const atts = [{ network: 'plain', settings: s(1) }, { network: 'anet', settings: s(2, true) }, { network: 'bnet', settings: s(3) }];
  t.deepEqual(nameserversFor(atts, (n) => n !== 'plain'), ['10.2.0.1', 'fd00:2::1']);
  t.deepEqual(nameserversFor(atts, (n) => n === 'bnet'), ['10.3.0.1']);
  t.deepEqual(nameserversFor(atts, () => true), ['10.1.0.1']);
  t.deepEqual(nameserversFor(atts, () => false), []);
  t.deepEqual(nameserversFor([{ network: 'anet' }], () => true), []);
});
