// portmap config parsing and container address selection (pure).

import test from 'ava';
import { CniError } from '../../../lib/cni/errors.ts';
import { appliesTo, containerAddrs, describe, overlaps, parseConfig } from '../../../plugins/portmap/config.ts';

const base = { cniVersion: '1.1.0', name: 'net', type: 'portmap' };
const withMappings = (portMappings: unknown, extra: Record<string, unknown> = {}) => ({ ...base, ...extra, runtimeConfig: { portMappings } });
const err = (fn: () => unknown): [number, string] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return [e.code, e.message];
    throw e;
  }
  return [0, ''];
};

test('defaults: snat on, masqAll off, protocol tcp, no hostIP; hostIPs are normalised', (t) => {
  const cfg = parseConfig(withMappings([
    { hostPort: 8080, containerPort: 80 },
    { hostPort: 53, containerPort: 53, protocol: 'UDP', hostIP: '127.0.0.1' },
    { hostPort: 9, containerPort: 9, protocol: 'sctp', hostIP: 'FD00:0::1' },
    { hostPort: 10, containerPort: 10, hostIP: '' },
  ]));
  t.deepEqual(cfg, {
    network: 'net',
    snat: true,
    masqAll: false,
    mappings: [
      { index: 0, hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: undefined },
      { index: 1, hostPort: 53, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
      { index: 2, hostPort: 9, containerPort: 9, protocol: 'sctp', hostIP: 'fd00::1' },
      { index: 3, hostPort: 10, containerPort: 10, protocol: 'tcp', hostIP: undefined },
    ],
  });
  t.true(Object.isFrozen(cfg) && Object.isFrozen(cfg.mappings) && Object.isFrozen(cfg.mappings[0]));
});

test('no runtimeConfig (DEL, GC) parses to no mappings; snat and masqAll are read', (t) => {
  t.deepEqual(parseConfig({ ...base, snat: false, masqAll: true }), { network: 'net', snat: false, masqAll: true, mappings: [] });
  t.deepEqual(parseConfig({ ...base, runtimeConfig: {} }).mappings, []);
});

test('bad mappings are code 7 naming index, field and value', (t) => {
  const cases: [unknown, string][] = [
    [[{ hostPort: 0, containerPort: 80 }], 'invalid portMappings[0].hostPort 0: must be an integer 1-65535'],
    [[{ hostPort: 1, containerPort: 1 }, { hostPort: 65536, containerPort: 80 }], 'invalid portMappings[1].hostPort 65536: must be an integer 1-65535'],
    [[{ hostPort: -1, containerPort: 80 }], 'invalid portMappings[0].hostPort -1: must be an integer 1-65535'],
    [[{ hostPort: '80', containerPort: 80 }], 'invalid portMappings[0].hostPort "80": must be an integer 1-65535'],
    [[{ hostPort: 80.5, containerPort: 80 }], 'invalid portMappings[0].hostPort 80.5: must be an integer 1-65535'],
    [[{ hostPort: 80, containerPort: 70000 }], 'invalid portMappings[0].containerPort 70000: must be an integer 1-65535'],
    [[{ hostPort: 80 }], 'invalid portMappings[0]: containerPort is missing'],
    [[{ containerPort: 80 }], 'invalid portMappings[0]: hostPort is missing'],
    [[{ hostPort: 80, containerPort: 80, protocol: 'icmp' }], 'invalid portMappings[0].protocol "icmp": must be tcp, udp or sctp'],
    [[{ hostPort: 80, containerPort: 80, protocol: 6 }], 'invalid portMappings[0].protocol 6: must be tcp, udp or sctp'],
    [[{ hostPort: 80, containerPort: 80, hostIP: '10.0.0.256' }], 'invalid portMappings[0].hostIP "10.0.0.256": must be an IPv4 or IPv6 address'],
    [[{ hostPort: 80, containerPort: 80, hostIP: '10.0.0.0/8' }], 'invalid portMappings[0].hostIP "10.0.0.0/8": must be an IPv4 or IPv6 address'],
    [['80:80'], 'invalid portMappings[0] "80:80": must be an object'],
    [{ hostPort: 80 }, 'invalid runtimeConfig.portMappings {"hostPort":80}: must be a list'],
    [[{ hostPort: 80, containerPort: 80 }, { hostPort: 80, containerPort: 81, hostIP: '127.0.0.1' }], 'invalid portMappings[1]: tcp 127.0.0.1:80 overlaps portMappings[0] (tcp 0.0.0.0:80)'],
  ];
  for (const [mappings, msg] of cases) t.deepEqual(err(() => parseConfig(withMappings(mappings))), [7, msg], msg);
  t.deepEqual(err(() => parseConfig({ ...base, snat: 'yes' })), [7, 'invalid snat "yes": must be true or false']);
});

test('iptables-only keys and backends are code 2 with an explanation; nftables conditions are parsed', (t) => {
  t.deepEqual(err(() => parseConfig({ ...base, backend: 'iptables' }))[0], 2);
  t.deepEqual(err(() => parseConfig({ ...base, backend: 'nftables' })), [0, '']);
  t.deepEqual(err(() => parseConfig({ ...base, backend: 'ebpf' })), [7, 'invalid backend "ebpf": must be "nftables"']);
  t.deepEqual(err(() => parseConfig({ ...base, markMasqBit: 13 }))[0], 2);
  t.deepEqual(err(() => parseConfig({ ...base, externalSetMarkChain: 'X' }))[0], 2);
  t.deepEqual(err(() => parseConfig({ ...base, conditionsV6: ['!', '-s', '::1'] }))[0], 2);
  t.deepEqual(err(() => parseConfig({ ...base, conditionsV4: [] })), [0, '']);
  // IPv6 loopback: the kernel drops the DNATed answers (no route_localnet for IPv6), so it is refused, any spelling.
  const loop = 'the kernel cannot DNAT IPv6 loopback (no route_localnet for IPv6): publish on 127.0.0.1, or use a userland proxy on [::1] (tscni run -p [::1]:PORT:PORT does)';
  t.deepEqual(err(() => parseConfig(withMappings([{ hostPort: 80, containerPort: 80 }, { hostPort: 8080, containerPort: 80, hostIP: '::1' }]))), [2, `unsupported portMappings[1].hostIP "::1": ${loop}`]);
  t.deepEqual(err(() => parseConfig(withMappings([{ hostPort: 8080, containerPort: 80, hostIP: '0:0::1' }]))), [2, `unsupported portMappings[0].hostIP "0:0::1": ${loop}`]);
  t.deepEqual(err(() => parseConfig(withMappings([{ hostPort: 8080, containerPort: 80, hostIP: '::' }]))), [0, '']);
  t.is(parseConfig({ ...base, conditionsV4: [] }).conditions, undefined);
  t.deepEqual(parseConfig({ ...base, conditionsV4: ['iifname', 'eth0'] }).conditions?.v4, [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'eth0' } }]);
  t.deepEqual(err(() => parseConfig({ ...base, conditionsV4: 'ip saddr 1.2.3.4' })), [7, 'invalid conditionsV4 "ip saddr 1.2.3.4": must be a list of nftables match tokens']);
});

test('overlap rules: wildcard against specific, same family only, unlike addresses never', (t) => {
  t.true(overlaps(undefined, '10.0.0.1'));
  t.true(overlaps('0.0.0.0', '10.0.0.1'));
  t.true(overlaps('::', 'fd00::1'));
  t.false(overlaps('0.0.0.0', '::'));
  t.false(overlaps('10.0.0.1', '10.0.0.2'));
  t.true(overlaps('10.0.0.1', '10.0.0.1'));
  t.is(describe({ protocol: 'udp', hostIP: '::1', hostPort: 53 }), 'udp [::1]:53');
  t.is(describe({ protocol: 'tcp', hostPort: 80 }, 6), 'tcp [::]:80');
  t.is(describe({ protocol: 'tcp', hostPort: 80 }), 'tcp 0.0.0.0:80');
  const m = { index: 0, hostPort: 1, containerPort: 1, protocol: 'tcp' as const };
  t.true(appliesTo(m, 4) && appliesTo(m, 6));
  t.deepEqual([appliesTo({ ...m, hostIP: '0.0.0.0' }, 4), appliesTo({ ...m, hostIP: '0.0.0.0' }, 6)], [true, false]);
});

test('container addresses: first v4 and first v6 on CNI_IFNAME in a sandbox; unindexed entries accepted', (t) => {
  const prev = {
    interfaces: [{ name: 'br0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/run/netns/c' }, { name: 'eth1', sandbox: '/run/netns/c' }],
    ips: [
      { address: '10.1.0.5/16', interface: 0 },
      { address: '10.2.0.5/24', interface: 3 },
      { address: '10.88.0.5/24', interface: 2 },
      { address: '10.88.0.6/24', interface: 2 },
      { address: 'fd00:1::5/64' },
    ],
  };
  t.deepEqual(containerAddrs(prev, 'eth0'), [
    { family: 4, address: '10.88.0.5', subnet: '10.88.0.0', prefixLen: 24 },
    { family: 6, address: 'fd00:1::5', subnet: 'fd00:1::', prefixLen: 64 },
  ]);
  t.deepEqual(containerAddrs({ ips: [{ address: '10.0.0.9/32' }] }, 'eth0'), [{ family: 4, address: '10.0.0.9', subnet: '10.0.0.9', prefixLen: 32 }]);
  t.deepEqual(err(() => containerAddrs(undefined, 'eth0')), [7, 'portmap must be called as a chained plugin: prevResult is missing']);
  t.deepEqual(err(() => containerAddrs({ interfaces: [{ name: 'eth0' }], ips: [{ address: '10.0.0.1/24', interface: 0 }] }, 'eth0')),
    [7, 'invalid prevResult: no IP address on interface "eth0" in a sandbox (ips ["10.0.0.1/24"])']);
});

test('Go-style key case from containerd 1.6 (go-cni) is read like the reference reads it', (t) => {
  const cfg = parseConfig(withMappings([{ HostPort: 18082, ContainerPort: 80, Protocol: 'tcp', HostIP: '' }]));
  t.deepEqual(cfg.mappings, [{ index: 0, hostPort: 18082, containerPort: 80, protocol: 'tcp', hostIP: undefined }]);
  const exact = parseConfig(withMappings([{ hostPort: 1, HOSTPORT: 2, containerPort: 3 }]));
  t.is(exact.mappings[0].hostPort, 1, 'an exact key wins over another case');
});
