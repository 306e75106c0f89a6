import test from 'ava';
import { errorOf } from '../../helpers/errors.ts';
import { formatIp } from '../../../lib/net/ip.ts';
import { parseIpamConfig, setString } from '../../../lib/ipam/config.ts';
import { parseResolvConfText } from '../../../lib/ipam/dns.ts';

const conf = (ipam: object, extra: object = {}) => ({ cniVersion: '1.0.0', name: 'net', type: 'host-local', ipam: { type: 'host-local', ...ipam }, ...extra });
const err = errorOf;

test('defaults: dataDir, gateway .1, rangeStart .1, rangeEnd broadcast-1 (v4) / last (v6)', (t) => {
  const c = parseIpamConfig(conf({ ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: 'fd00::/120' }]] }), '1.0.0');
  t.is(c.dataDir, '/var/lib/cni/networks');
  t.is(c.name, 'net');
  t.deepEqual(c.rangeSets.map(setString), ['10.0.0.1-10.0.0.254', 'fd00::1-fd00::ff']);
  t.deepEqual(c.rangeSets.map((s) => formatIp(s[0].gateway)), ['10.0.0.1', 'fd00::1']);
});

test('order of range sets: runtimeConfig.ipRanges, then legacy subnet, then ranges', (t) => {
  const c = parseIpamConfig(
    conf({ subnet: '10.1.0.0/24', rangeStart: '10.1.0.10', rangeEnd: '10.1.0.20', gateway: '10.1.0.254', ranges: [[{ subnet: '10.2.0.0/24' }]] }, { runtimeConfig: { ipRanges: [[{ subnet: '10.3.0.0/24' }]] } }),
    '1.0.0',
  );
  t.deepEqual(c.rangeSets.map(setString), ['10.3.0.1-10.3.0.254', '10.1.0.10-10.1.0.20', '10.2.0.1-10.2.0.254']);
  t.is(formatIp(c.rangeSets[1][0].gateway), '10.1.0.254');
});

test('requested IPs: CNI_ARGS IP (comma list), args.cni.ips, runtimeConfig.ips merged, duplicates dropped, prefixes ignored', (t) => {
  const c = parseIpamConfig(conf({ ranges: [[{ subnet: '10.0.0.0/24' }]] }, { args: { cni: { ips: ['10.0.0.6', '10.0.0.5'] } }, runtimeConfig: { ips: ['10.0.0.7/24'] } }), '1.0.0', 'IP=10.0.0.5, 10.0.0.8;IgnoreUnknown=1;K8S_POD_NAME=x');
  t.deepEqual(c.requested.map((r) => [formatIp(r.ip), r.field]), [
    ['10.0.0.5', 'CNI_ARGS IP'],
    ['10.0.0.8', 'CNI_ARGS IP'],
    ['10.0.0.6', 'args.cni.ips[0]'],
    ['10.0.0.7', 'runtimeConfig.ips[0]'],
  ]);
});

test('routes are copied with canonical dst and gw', (t) => {
  const c = parseIpamConfig(conf({ subnet: '10.0.0.0/24', routes: [{ dst: '0.0.0.0/0' }, { dst: '192.168.0.0/16', gw: '10.0.0.254' }] }), '1.0.0');
  t.deepEqual(c.routes, [{ dst: '0.0.0.0/0' }, { dst: '192.168.0.0/16', gw: '10.0.0.254' }]);
});

const bad: [string, object, object, number, string][] = [
  ['range sets overlapping', { ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.0.0.0/25' }]] }, {}, 7, 'invalid range set 1 "10.0.0.1-10.0.0.126": overlaps range set 0 (10.0.0.1-10.0.0.254)'],
  ['ranges in a set overlapping', { ranges: [[{ subnet: '10.0.0.0/24' }, { subnet: '10.0.0.0/16' }]] }, {}, 7, 'invalid ipam.ranges[0][1] "10.0.0.1-10.0.255.254": overlaps ipam.ranges[0][0] 10.0.0.1-10.0.0.254'],
  ['subnet /31', { ranges: [[{ subnet: '10.0.0.0/31' }]] }, {}, 7, 'invalid ipam.ranges[0][0].subnet "10.0.0.0/31": network too small to allocate from (needs at least 2 host bits, at most /30)'],
  ['subnet /127', { ranges: [[{ subnet: 'fd00::/127' }]] }, {}, 7, 'invalid ipam.ranges[0][0].subnet "fd00::/127": network too small to allocate from (needs at least 2 host bits, at most /126)'],
  ['host bits set', { subnet: '10.0.0.5/24' }, {}, 7, 'invalid ipam.subnet "10.0.0.5/24": network has host bits set; for a prefix of /24 the network address is 10.0.0.0'],
  ['rangeStart outside the subnet', { ranges: [[{ subnet: '10.0.0.0/24', rangeStart: '10.0.1.5' }]] }, {}, 7, 'invalid ipam.ranges[0][0].rangeStart "10.0.1.5": not in network 10.0.0.0/24'],
  ['rangeEnd outside the subnet', { subnet: '10.0.0.0/24', rangeEnd: '10.0.1.5' }, {}, 7, 'invalid ipam.rangeEnd "10.0.1.5": not in network 10.0.0.0/24'],
  ['gateway as requested IP', { subnet: '10.0.0.0/24' }, { runtimeConfig: { ips: ['10.0.0.1'] } }, 7, 'invalid runtimeConfig.ips[0] "10.0.0.1": is the gateway of range 10.0.0.1-10.0.0.254; it is never handed out'],
  ['mixed families in a set', { ranges: [[{ subnet: '10.0.0.0/24' }, { subnet: 'fd00::/64' }]] }, {}, 7, 'invalid ipam.ranges[0][1].subnet "fd00::/64": mixed address families in one range set (ipam.ranges[0][0] is 10.0.0.0/24)'],
  ['not a CIDR', { subnet: '10.0.0.0' }, {}, 7, 'invalid ipam.subnet "10.0.0.0": not a CIDR'],
  ['no ranges', {}, {}, 7, 'invalid ipam: no IP ranges specified (set ipam.ranges or ipam.subnet)'],
  ['relative dataDir', { subnet: '10.0.0.0/24', dataDir: 'x' }, {}, 7, 'invalid ipam.dataDir "x": must be an absolute path'],
  // Subnets that cannot serve a container, whichever field carries them (issue 16, item 1).
  ['subnet 0.0.0.0/0 (legacy)', { subnet: '0.0.0.0/0' }, {}, 7, 'invalid ipam.subnet "0.0.0.0/0": covers 0.0.0.0/8 ("this network"); a container subnet must be routable unicast'],
  ['subnet ::/0', { ranges: [[{ subnet: '::/0' }]] }, {}, 7, 'invalid ipam.ranges[0][0].subnet "::/0": covers ::/128 (the unspecified address); a container subnet must be routable unicast'],
  ['subnet 128.0.0.0/1', { ranges: [[{ subnet: '128.0.0.0/1' }]] }, {}, 7, 'invalid ipam.ranges[0][0].subnet "128.0.0.0/1": covers 169.254.0.0/16 (link-local); a container subnet must be routable unicast'],
  ['subnet /32', { subnet: '10.0.0.1/32' }, {}, 7, 'invalid ipam.subnet "10.0.0.1/32": network too small to allocate from (needs at least 2 host bits, at most /30)'],
  ['subnet /128', { subnet: 'fd00::1/128' }, {}, 7, 'invalid ipam.subnet "fd00::1/128": network too small to allocate from (needs at least 2 host bits, at most /126)'],
  ['loopback subnet', { subnet: '127.0.0.0/24' }, {}, 7, 'invalid ipam.subnet "127.0.0.0/24": is inside 127.0.0.0/8 (loopback); a container subnet must be routable unicast'],
  ['link-local subnet', { subnet: '169.254.1.0/24' }, {}, 7, 'invalid ipam.subnet "169.254.1.0/24": is inside 169.254.0.0/16 (link-local); a container subnet must be routable unicast'],
  ['multicast subnet', { subnet: '239.1.0.0/16' }, {}, 7, 'invalid ipam.subnet "239.1.0.0/16": is inside 224.0.0.0/4 (multicast); a container subnet must be routable unicast'],
  ['reserved subnet', { subnet: '250.0.0.0/8' }, {}, 7, 'invalid ipam.subnet "250.0.0.0/8": is inside 240.0.0.0/4 (reserved, with the broadcast address 255.255.255.255); a container subnet must be routable unicast'],
  ['IPv6 loopback', { subnet: '::1/126' }, {}, 7, 'invalid ipam.subnet "::1/126": network has host bits set; for a prefix of /126 the network address is ::'],
  ['IPv6 link-local', { ranges: [[{ subnet: 'fe80::/64' }]] }, {}, 7, 'invalid ipam.ranges[0][0].subnet "fe80::/64": is inside fe80::/10 (link-local); a container subnet must be routable unicast'],
  ['IPv6 multicast', { ranges: [[{ subnet: 'ff02::/64' }]] }, {}, 7, 'invalid ipam.ranges[0][0].subnet "ff02::/64": is inside ff00::/8 (multicast); a container subnet must be routable unicast'],
  ['runtimeConfig.ipRanges 0.0.0.0/0', { subnet: '10.0.0.0/24' }, { runtimeConfig: { ipRanges: [[{ subnet: '0.0.0.0/0' }]] } }, 7,
    'invalid runtimeConfig.ipRanges[0][0].subnet "0.0.0.0/0": covers 0.0.0.0/8 ("this network"); a container subnet must be routable unicast'],
  // Gateways and range bounds that are no host of their subnet (item 7).
  ['gateway = network address', { subnet: '10.0.0.0/24', gateway: '10.0.0.0' }, {}, 7, 'invalid ipam.gateway "10.0.0.0": is the network address of 10.0.0.0/24'],
  ['gateway = broadcast', { ranges: [[{ subnet: '10.0.0.0/24', gateway: '10.0.0.255' }]] }, {}, 7, 'invalid ipam.ranges[0][0].gateway "10.0.0.255": is the broadcast address of 10.0.0.0/24'],
  ['gateway outside the subnet', { subnet: '10.0.0.0/24', gateway: '10.0.1.1' }, {}, 7, 'invalid ipam.gateway "10.0.1.1": not in network 10.0.0.0/24'],
  ['gateway of the other family', { subnet: '10.0.0.0/24', gateway: 'fd00::1' }, {}, 7, 'invalid ipam.gateway "fd00::1": not the family of subnet 10.0.0.0/24'],
  ['IPv6 gateway = network address', { subnet: 'fd00::/64', gateway: 'fd00::' }, {}, 7, 'invalid ipam.gateway "fd00::": is the network address of fd00::/64'],
  ['rangeStart = network address', { subnet: '10.0.0.0/24', rangeStart: '10.0.0.0' }, {}, 7, 'invalid ipam.rangeStart "10.0.0.0": is the network address of 10.0.0.0/24'],
  ['rangeEnd = broadcast', { subnet: '10.0.0.0/24', rangeEnd: '10.0.0.255' }, {}, 7, 'invalid ipam.rangeEnd "10.0.0.255": is the broadcast address of 10.0.0.0/24'],
  ['a range of only the gateway', { subnet: '10.0.0.0/30', rangeStart: '10.0.0.1', rangeEnd: '10.0.0.1' }, {}, 7, 'invalid ipam "10.0.0.1-10.0.0.1": holds only the gateway 10.0.0.1; no address is left to hand out'],
  ['bad requested IP', { subnet: '10.0.0.0/24' }, { args: { cni: { ips: ['10.0.0.300'] } } }, 7, 'invalid args.cni.ips[0] "10.0.0.300": not an IP address'],
];

for (const [what, ipam, extra, code, msg] of bad) {
  test(`bad config: ${what}`, (t) => {
    t.deepEqual(err(() => parseIpamConfig(conf(ipam, extra), '1.0.0')), [code, msg]);
  });
}

test('no ipam key: code 7', (t) => {
  t.deepEqual(err(() => parseIpamConfig({ cniVersion: '1.0.0', name: 'n' }, '1.0.0')), [7, `invalid ipam null: IPAM config missing 'ipam' key`]);
});

test('two addresses of one family need cniVersion 0.3.0 or later (code 1)', (t) => {
  const two = conf({ ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.1.0.0/24' }]] });
  t.deepEqual(err(() => parseIpamConfig(two, '0.2.0')), [1, 'CNI version 0.2.0 does not support more than 1 address per family (2 IPv4 and 0 IPv6 range sets); use 0.3.0 or later']);
  t.is(parseIpamConfig(two, '0.3.0').rangeSets.length, 2);
  t.is(parseIpamConfig(conf({ ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: 'fd00::/64' }]] }), '0.2.0').rangeSets.length, 2);
});

test('bad CNI_ARGS IP: code 4', (t) => {
  t.deepEqual(err(() => parseIpamConfig(conf({ subnet: '10.0.0.0/24' }), '1.0.0', 'IP=nope')), [4, 'invalid CNI_ARGS IP "nope": not an IP address']);
});

test('resolv.conf parsing', (t) => {
  t.deepEqual(parseResolvConfText('# c\n; c\nnameserver 1.1.1.1\nnameserver  fd00::53 \ndomain example.com\nsearch a.b c.d\noptions ndots:2 edns0\n\n'), {
    nameservers: ['1.1.1.1', 'fd00::53'],
    domain: 'example.com',
    search: ['a.b', 'c.d'],
    options: ['ndots:2', 'edns0'],
  });
});

test('a /30 and a /126 serve containers; the IPv6 last address is a host (no broadcast)', (t) => {
  t.deepEqual(parseIpamConfig(conf({ ranges: [[{ subnet: '10.0.0.0/30' }], [{ subnet: 'fd00::/126', rangeEnd: 'fd00::3' }]] }), '1.0.0').rangeSets.map(setString), [
    '10.0.0.1-10.0.0.2',
    'fd00::1-fd00::3',
  ]);
});

test('a 300-character network name is code 7 naming the name and the limit, not an I/O error on dataDir', (t) => {
  const name = 'n'.repeat(300);
  t.deepEqual(err(() => parseIpamConfig({ ...conf({ subnet: '10.0.0.0/24' }), name }, '1.0.0')), [
    7,
    `invalid name "${name}": a network name is at most 128 characters (it names the directory <dataDir>/<name> and result cache files), this one is 300`,
  ]);
});

test('the network name becomes a directory: checked here too, for in-process callers', (t) => {
  t.deepEqual(err(() => parseIpamConfig({ ...conf({ subnet: '10.0.0.0/24' }), name: '../x' }, '1.0.0')), [
    7,
    'invalid name "../x": a network name must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$',
  ]);
});
