// portmap against the real kernel, bookkeeping: the port ledger, DEL/CHECK/GC/STATUS by owner, conditions sets,
// bad input and the dry run. Containers are plain veths on a bridge (no tscni bridge plugin).

import test from 'ava';
import { callPlugin } from '../../helpers/plugin.ts';
import { requireRoot } from '../../helpers/netns.ts';
import { answer, GW4, HOST4, HOST6, makeBridgeHost, serve, tcp } from '../../helpers/veth-container.ts';
import { added, call, comments, conf, elements, NET, NFT, owned, tableJson, tableText, type Mapping } from './fixture.ts';

test.serial('port ledger: a held port is refused in Docker\'s words and nothing is applied', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  const c2 = fx.addContainer(12);
  await serve(t, c1.ns, 80, 'c1');
  await added(t, fx, c1, [{ hostPort: 8080, containerPort: 80 }, { hostPort: 7070, containerPort: 80, hostIP: HOST4 }]);
  const cases: [Mapping[], string][] = [
    [[{ hostPort: 9000, containerPort: 80 }, { hostPort: 8080, containerPort: 81 }], 'port is already allocated: tcp 0.0.0.0:8080 held by container ctr-11'],
    [[{ hostPort: 8080, containerPort: 80, hostIP: GW4 }], 'port is already allocated: tcp 10.88.0.1:8080 held by container ctr-11'],
    [[{ hostPort: 8080, containerPort: 80, hostIP: '::' }], 'port is already allocated: tcp [::]:8080 held by container ctr-11'],
    [[{ hostPort: 7070, containerPort: 80 }], 'port is already allocated: tcp 0.0.0.0:7070 held by container ctr-11'],
    [[{ hostPort: 7070, containerPort: 80, hostIP: HOST4 }], 'port is already allocated: tcp 192.168.77.1:7070 held by container ctr-11'],
  ];
  const before = tableJson(fx.host);
  for (const [mappings, msg] of cases) {
    const r = await call(fx, 'ADD', c2, conf(c2, mappings));
    t.is(r.code, 1, JSON.stringify(mappings));
    t.deepEqual(r.json, { cniVersion: '1.1.0', code: 100, msg });
    t.is(tableJson(fx.host), before, `nothing applied after refusing ${JSON.stringify(mappings)}`);
  }
  // Not overlapping: another protocol, another specific address, another port.
  await added(t, fx, c2, [{ hostPort: 8080, containerPort: 80, protocol: 'udp' }, { hostPort: 7070, containerPort: 80, hostIP: GW4 }]);
  await serve(t, c2.ns, 80, 'c2');
  t.is(tcp(fx.outside, HOST4, 7070), answer('c1', c1.v4));
  t.is(tcp(fx.host, GW4, 7070), answer('c2', c2.v4));
  t.is(tcp(fx.outside, HOST4, 8080), answer('c1', c1.v4), 'the holder keeps working');
});

test.serial('port ledger: 8 concurrent ADDs of the same port, exactly one wins and the others name it', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  const ids = Array.from({ length: 8 }, (_, i) => `racer-${i}`);
  const results = await Promise.all(ids.map((id) => call(fx, 'ADD', c1, conf(c1, [{ hostPort: 8080, containerPort: 80, hostIP: HOST4 }]), id)));
  const winners = ids.filter((_, i) => results[i].code === 0);
  t.is(winners.length, 1, results.map((r) => r.stdout).join(''));
  for (const r of results.filter((x) => x.code !== 0)) {
    t.deepEqual(r.json, { cniVersion: '1.1.0', code: 100, msg: `port is already allocated: tcp 192.168.77.1:8080 held by container ${winners[0]}` });
  }
  t.deepEqual([...new Set(comments(fx.host))], [`pmnet ${winners[0]} eth0`]);
});

test.serial('port ledger: a port a host process listens on is refused', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  await serve(t, fx.host, 6060, 'host');
  const before = tableJson(fx.host);
  for (const [m, msg] of [
    [{ hostPort: 6060, containerPort: 80 }, 'port is already allocated: tcp 0.0.0.0:6060 held by a host process (bind: EADDRINUSE)'],
    [{ hostPort: 6060, containerPort: 80, protocol: 'udp', hostIP: HOST4 }, 'port is already allocated: udp 192.168.77.1:6060 held by a host process (bind: EADDRINUSE)'],
    [{ hostPort: 6060, containerPort: 80, hostIP: HOST6 }, `port is already allocated: tcp [${HOST6}]:6060 held by a host process (bind: EADDRINUSE)`],
  ] as const) {
    const r = await call(fx, 'ADD', c1, conf(c1, [m]));
    t.deepEqual(r.json, { cniVersion: '1.1.0', code: 100, msg });
    t.is(tableJson(fx.host), before);
  }
});

test.serial('DEL by owner without runtimeConfig or prevResult, twice; a reused address stays with its new owner', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  await serve(t, c1.ns, 80, 'c1');
  await added(t, fx, c1, [{ hostPort: 8080, containerPort: 80 }, { hostPort: 5353, containerPort: 80, protocol: 'udp' }]);
  // Another attachment publishes to the same address (an address reused before ctr-11's DEL came): the masquerade
  // pair now belongs to it, and ctr-11's DEL must not take it away.
  const stale = { ...c1, id: 'ctr-old' };
  await added(t, fx, stale, [{ hostPort: 9999, containerPort: 80 }]);
  const subnet = { prefix: { addr: '10.88.0.0', len: 24 } };
  t.deepEqual(elements(fx.host).hairpin4, [{ concat: [subnet, subnet] }], 'the subnet\'s hairpin element is shared and stays');
  const bare = { cniVersion: '1.1.0', name: NET, type: 'portmap' };
  for (let i = 0; i < 2; i++) {
    const r = await call(fx, 'DEL', c1, bare);
    t.is(r.code, 0, r.stdout);
    t.is(r.stdout, '');
  }
  const el = elements(fx.host);
  t.deepEqual([el.addr4_any, el.port4_any], [[owned({ concat: ['tcp', 9999] }, '10.88.0.11', 'pmnet ctr-old eth0')], [owned({ concat: ['tcp', 9999] }, 80, 'pmnet ctr-old eth0')]], 'only ctr-old\'s elements are left');
  t.deepEqual([el.addr6_any, el.port6_any], [[owned({ concat: ['tcp', 9999] }, 'fd88::11', 'pmnet ctr-old eth0')], [owned({ concat: ['tcp', 9999] }, 80, 'pmnet ctr-old eth0')]]);
  t.deepEqual(el.hairpin4, [{ concat: [subnet, subnet] }]);
  t.is(tcp(fx.outside, HOST4, 8080), '');
  t.is(tcp(fx.outside, HOST4, 9999), answer('c1', c1.v4));
  t.is(tcp(c1.ns, GW4, 9999), answer('c1', c1.v4), 'hairpin of the other owner survives');
  const r = await call(fx, 'DEL', stale, bare);
  t.is(r.code, 0);
  t.deepEqual(comments(fx.host), []);
  // DEL with no table at all (fresh host) is fine too.
  fx.host.run([NFT, 'delete', 'table', 'inet', 'tscni_portmap']);
  t.is((await call(fx, 'DEL', c1, bare)).code, 0);
});

test.serial('conditionsV4/V6 restrict one network\'s mappings; the ledger still spans every network', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  const c2 = fx.addContainer(12);
  await serve(t, c1.ns, 80, 'c1');
  await serve(t, c2.ns, 80, 'c2');
  // Only the outside host may use network A's ports; network B has no conditions.
  await added(t, fx, c1, [{ hostPort: 8080, containerPort: 80 }], { conditionsV4: ['ip', 'saddr', '192.168.77.2'], conditionsV6: ['ip6 saddr fd77::2'] });
  t.is(tcp(fx.outside, HOST4, 8080), answer('c1', c1.v4), 'the allowed source');
  t.is(tcp(fx.outside, HOST6, 8080), answer('c1', c1.v6), 'the allowed IPv6 source');
  t.is(tcp(fx.host, HOST4, 8080), '', 'the host itself is not an allowed source');
  t.is(tcp(c2.ns, GW4, 8080), '', 'nor a neighbour');
  const r = await call(fx, 'ADD', c2, { ...conf(c2, [{ hostPort: 8080, containerPort: 80 }]), name: 'othernet' });
  t.deepEqual(r.json, { cniVersion: '1.1.0', code: 100, msg: 'port is already allocated: tcp 0.0.0.0:8080 held by container ctr-11' });
  const r2 = await call(fx, 'ADD', c2, { ...conf(c2, [{ hostPort: 9090, containerPort: 80 }]), name: 'othernet' });
  t.is(r2.code, 0, r2.stdout);
  t.is(tcp(fx.host, HOST4, 9090), answer('c2', c2.v4), 'the unconditioned network is open to all');
  const status = await callPlugin('portmap', { command: 'STATUS' }, { cniVersion: '1.1.0', name: NET, type: 'portmap' }, { hostNetns: fx.host.name });
  t.is(status.code, 0, status.stdout);
  t.is((await call(fx, 'CHECK', c1, conf(c1, [{ hostPort: 8080, containerPort: 80 }], { conditionsV4: ['ip', 'saddr', '192.168.77.2'], conditionsV6: ['ip6 saddr fd77::2'] }))).code, 0);
  t.is((await call(fx, 'DEL', c1, { cniVersion: '1.1.0', name: NET, type: 'portmap' })).code, 0);
  t.is(tcp(fx.outside, HOST4, 8080), '');
});
test.serial('CHECK passes after ADD and names what is wrong after tampering', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  const m = [{ hostPort: 8080, containerPort: 80 }];
  await added(t, fx, c1, m);
  const ok = await call(fx, 'CHECK', c1, conf(c1, m));
  t.is(ok.code, 0, ok.stdout);
  fx.host.run([NFT, 'delete', 'element', 'inet', 'tscni_portmap', 'addr6_any', '{ tcp . 8080 }']);
  const bad = await call(fx, 'CHECK', c1, conf(c1, m));
  t.deepEqual(bad.json, { cniVersion: '1.1.0', code: 999, msg: 'portmap: portMappings[0] tcp [::]:8080 is not published (no element in map addr6_any)' });
  fx.host.run([NFT, 'add', 'element', 'inet', 'tscni_portmap', 'addr6_any', '{ tcp . 8080 comment "pmnet ctr-11 eth0" : fd88::99 }']);
  const wrong = await call(fx, 'CHECK', c1, conf(c1, m));
  t.deepEqual(wrong.json, { cniVersion: '1.1.0', code: 999, msg: 'portmap: portMappings[0] tcp [::]:8080 points at "fd88::99" in map addr6_any, expected "fd88::11"' });
});

test.serial('GC removes the mappings of attachments not in cni.dev/valid-attachments, only in its own network', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c = [fx.addContainer(11), fx.addContainer(12), fx.addContainer(13)];
  for (const [i, x] of c.entries()) await added(t, fx, x, [{ hostPort: 8080 + i, containerPort: 80 }]);
  const other = { ...c[0], id: 'ctr-other-net' };
  const r0 = await call(fx, 'ADD', other, { ...conf(other, [{ hostPort: 9000, containerPort: 80 }]), name: 'othernet' });
  t.is(r0.code, 0, r0.stdout);
  const gc = await callPlugin('portmap', { command: 'GC' }, { cniVersion: '1.1.0', name: NET, type: 'portmap', 'cni.dev/valid-attachments': [{ containerID: 'ctr-12', ifname: 'eth0' }] }, { hostNetns: fx.host.name });
  t.is(gc.code, 0, gc.stdout);
  t.deepEqual([...new Set(comments(fx.host))].sort(), ['othernet ctr-other-net eth0', 'pmnet ctr-12 eth0']);
});

test.serial('STATUS is 51 with a precise message after `nft flush ruleset`, and 0 once an ADD re-creates the table', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  const status = () => callPlugin('portmap', { command: 'STATUS' }, { cniVersion: '1.1.0', name: NET, type: 'portmap' }, { hostNetns: fx.host.name });
  await added(t, fx, c1, [{ hostPort: 8080, containerPort: 80 }]);
  t.is((await status()).code, 0);
  fx.host.run([NFT, 'delete', 'chain', 'inet', 'tscni_portmap', 'guard']);
  t.deepEqual((await status()).json, { cniVersion: '1.1.0', code: 51, msg: 'portmap: table inet tscni_portmap lacks chain guard; published ports are not forwarded until the next ADD re-creates it' });
  fx.host.run([NFT, 'flush', 'ruleset']);
  t.deepEqual((await status()).json, { cniVersion: '1.1.0', code: 51, msg: 'portmap: table inet tscni_portmap is missing (flushed ruleset?); published ports are not forwarded until the next ADD re-creates it' });
  await added(t, fx, fx.addContainer(12), [{ hostPort: 8081, containerPort: 80 }]);
  t.is((await status()).code, 0);
});

test.serial('bad input: code 7 naming mapping index, field and value, and nothing applied', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  const ok = { hostPort: 8080, containerPort: 80 };
  const cases: [unknown, string][] = [
    [conf(c1, [ok, { hostPort: 0, containerPort: 80 }]), 'invalid portMappings[1].hostPort 0: must be an integer 1-65535'],
    [conf(c1, [{ hostPort: 65536, containerPort: 80 }]), 'invalid portMappings[0].hostPort 65536: must be an integer 1-65535'],
    [conf(c1, [{ hostPort: -1, containerPort: 80 }]), 'invalid portMappings[0].hostPort -1: must be an integer 1-65535'],
    [conf(c1, [{ hostPort: '80', containerPort: 80 }]), 'invalid portMappings[0].hostPort "80": must be an integer 1-65535'],
    [conf(c1, [{ hostPort: 80, containerPort: 0 }]), 'invalid portMappings[0].containerPort 0: must be an integer 1-65535'],
    [conf(c1, [{ hostPort: 80, containerPort: 80, protocol: 'icmp' }]), 'invalid portMappings[0].protocol "icmp": must be tcp, udp or sctp'],
    [conf(c1, [{ hostPort: 80, containerPort: 80, hostIP: 'localhost' }]), 'invalid portMappings[0].hostIP "localhost": must be an IPv4 or IPv6 address'],
    [conf(c1, [ok, { hostPort: 80 }]), 'invalid portMappings[1]: containerPort is missing'],
    [conf(c1, [ok, { ...ok, hostIP: '0.0.0.0' }]), 'invalid portMappings[1]: tcp 0.0.0.0:8080 overlaps portMappings[0] (tcp 0.0.0.0:8080)'],
    [{ ...conf(c1, [ok]), prevResult: undefined }, 'portmap must be called as a chained plugin: prevResult is missing'],
    [{ ...conf(c1, [ok]), prevResult: { cniVersion: '1.1.0', interfaces: [{ name: 'eth1', sandbox: c1.ns.path }], ips: [{ address: '10.88.0.11/24', interface: 0 }] } },
      'invalid prevResult: no IP address on interface "eth0" in a sandbox (ips ["10.88.0.11/24"])'],
  ];
  for (const [stdin, msg] of cases) {
    const r = await call(fx, 'ADD', c1, stdin);
    t.deepEqual(r.json, { cniVersion: '1.1.0', code: 7, msg });
    t.is(tableText(fx.host), '', 'nothing applied');
  }
  const unsupported: [Record<string, unknown>, string][] = [
    [{ backend: 'iptables' }, 'unsupported backend "iptables": tscni portmap uses nftables only (one table, inet tscni_portmap); remove "backend" or set it to "nftables"'],
    [{ markMasqBit: 13 }, 'unsupported markMasqBit 13: is an iptables-backend option; tscni portmap uses nftables, where hairpin and localhost masquerade need no packet mark'],
    [{ externalSetMarkChain: 'KUBE-MARK-MASQ' }, 'unsupported externalSetMarkChain "KUBE-MARK-MASQ": is an iptables-backend option; tscni portmap uses nftables, where hairpin and localhost masquerade need no packet mark'],
    [{ conditionsV4: ['-s', '1.2.3.4'] }, 'unsupported conditionsV4 ["-s","1.2.3.4"]: iptables syntax (a first token starting with "-" or "!") needs the iptables backend, which tscni does not have; write nftables matches instead'],
  ];
  for (const [extra, msg] of unsupported) {
    const r = await call(fx, 'ADD', c1, conf(c1, [ok], extra));
    t.deepEqual(r.json, { cniVersion: '1.1.0', code: 2, msg });
    t.is(tableText(fx.host), '');
  }
});

test.serial('dry run prints the exact nft batch and applies nothing', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11, { v6: false });
  const r = await callPlugin('portmap', { command: 'ADD', containerId: c1.id, netns: c1.ns.path, ifname: 'eth0', extra: { TSCNI_DRY_RUN: '1' } },
    conf(c1, [{ hostPort: 5353, containerPort: 53, protocol: 'udp' }]), { hostNetns: fx.host.name });
  t.is(r.code, 0, r.stdout);
  t.is(tableText(fx.host), '');
  t.deepEqual(r.json.plan.mappings, ['udp 0.0.0.0:5353 -> 10.88.0.11:53']);
  t.deepEqual(r.json.plan.conntrack, [['conntrack', '-D', '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', '5353']]);
  const E = (verb: string, name: string, elem: unknown[]) => ({ [verb]: { element: { family: 'inet', table: 'tscni_portmap', name, elem } } });
  const subnet = { prefix: { addr: '10.88.0.0', len: 24 } };
  t.deepEqual(r.json.plan.nft.slice(-4), [
    E('create', 'addr4_any', [[{ elem: { val: { concat: ['udp', 5353] }, comment: 'pmnet ctr-11 eth0' } }, '10.88.0.11']]),
    E('create', 'port4_any', [[{ elem: { val: { concat: ['udp', 5353] }, comment: 'pmnet ctr-11 eth0' } }, 53]]),
    E('add', 'hairpin4', [{ concat: [subnet, subnet] }]),
    E('add', 'local4', [subnet]),
  ]);
});
