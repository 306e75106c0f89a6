// portmap rule planning, listings, CHECK/STATUS read-back, owner tags and host helpers (pure, exact values).

import test from 'ava';
import { parseConfig } from '../../../plugins/portmap/config.ts';
import { conntrackArgv, routeInterface } from '../../../plugins/portmap/host.ts';
import { findConflict, keyParts, listedElements } from '../../../plugins/portmap/ledger.ts';
import { netToken, portmapTag as ownerTag, portmapTagBelongsTo as belongsTo, portmapTagContainer as containerOf } from '../../../lib/cni/owner.ts';
import { conditionsOf } from '../../../plugins/portmap/conditions.ts';
import { conditionSet, entriesOf, jumps, probes, publish, removal, skeleton, TABLE } from '../../../plugins/portmap/rules.ts';
import { checkEntries, statusProblem } from '../../../plugins/portmap/verify.ts';

const T = { family: 'inet', table: TABLE };
const cfgOf = (portMappings: unknown[], extra: Record<string, unknown> = {}) => parseConfig({ cniVersion: '1.1.0', name: 'net', ...extra, runtimeConfig: { portMappings } });
const v4 = { family: 4 as const, address: '10.88.0.5', subnet: '10.88.0.0', prefixLen: 24 };
const v6 = { family: 6 as const, address: 'fd88::5', subnet: 'fd88::', prefixLen: 64 };

test('entries: a mapping without hostIP goes to both families, a hostIP only to its own', (t) => {
  const cfg = cfgOf([{ hostPort: 80, containerPort: 8080 }, { hostPort: 53, containerPort: 53, protocol: 'udp', hostIP: '192.168.1.1' }, { hostPort: 22, containerPort: 22, hostIP: '::' }]);
  t.deepEqual(entriesOf(cfg, [v4, v6]), [
    { family: 4, index: 0, protocol: 'tcp', hostPort: 80, hostIP: undefined, address: '10.88.0.5', containerPort: 8080 },
    { family: 4, index: 1, protocol: 'udp', hostPort: 53, hostIP: '192.168.1.1', address: '10.88.0.5', containerPort: 53 },
    { family: 6, index: 0, protocol: 'tcp', hostPort: 80, hostIP: undefined, address: 'fd88::5', containerPort: 8080 },
    { family: 6, index: 2, protocol: 'tcp', hostPort: 22, hostIP: undefined, address: 'fd88::5', containerPort: 22 },
  ]);
  t.deepEqual(entriesOf(cfg, [v6]).map((e) => e.index), [0, 2]);
});

test('publish: create map elements with the owner comment, hostips, and the subnet\'s masquerade elements', (t) => {
  const cfg = cfgOf([{ hostPort: 80, containerPort: 8080, hostIP: '192.168.1.1' }]);
  const entries = entriesOf(cfg, [v4, v6]);
  const subnet = { prefix: { addr: '10.88.0.0', len: 24 } };
  t.deepEqual(publish(cfg, [v4, v6], entries, 'net c1 eth0'), [
    { create: { element: { ...T, name: 'addr4', elem: [[{ elem: { val: { concat: ['192.168.1.1', 'tcp', 80] }, comment: 'net c1 eth0' } }, '10.88.0.5']] } } },
    { create: { element: { ...T, name: 'port4', elem: [[{ elem: { val: { concat: ['192.168.1.1', 'tcp', 80] }, comment: 'net c1 eth0' } }, 8080]] } } },
    { add: { element: { ...T, name: 'hostips', elem: ['::ffff:192.168.1.1'] } } },
    { add: { element: { ...T, name: 'hairpin4', elem: [{ concat: [subnet, subnet] }] } } },
    { add: { element: { ...T, name: 'local4', elem: [subnet] } } },
  ], 'no IPv6 entries, so no IPv6 masquerade element');
  const noSnat = cfgOf([{ hostPort: 80, containerPort: 80 }], { snat: false });
  t.deepEqual(publish(noSnat, [v6], entriesOf(noSnat, [v6]), 'o').map((c) => Object.keys(c)[0] + ' ' + (Object.values(c)[0] as any).element.name), ['create addr6_any', 'create port6_any']);
  const all = cfgOf([{ hostPort: 80, containerPort: 80 }], { masqAll: true });
  t.deepEqual(publish(all, [v6], entriesOf(all, [v6]), 'o').slice(2), [
    { add: { element: { ...T, name: 'all6', elem: ['fd88::5'] } } },
    { delete: { element: { ...T, name: 'all6', elem: ['fd88::5'] } } },
    { add: { element: { ...T, name: 'all6', elem: [{ elem: { val: 'fd88::5', comment: 'o' } }] } } },
  ]);
});

test('probes: a specific hostIP probes the wildcard key, a wildcard probes every known specific of its family', (t) => {
  const cfg = cfgOf([{ hostPort: 80, containerPort: 80, hostIP: '192.168.1.1' }, { hostPort: 81, containerPort: 81 }]);
  t.deepEqual(probes(entriesOf(cfg, [v4]), ['10.0.0.1', 'fd00::1', '10.0.0.2']), [
    { create: { element: { ...T, name: 'addr4_any', elem: [[{ concat: ['tcp', 80] }, '0.0.0.0']] } } },
    { delete: { element: { ...T, name: 'addr4_any', elem: [{ concat: ['tcp', 80] }] } } },
    { create: { element: { ...T, name: 'addr4', elem: [[{ concat: ['10.0.0.1', 'tcp', 81] }, '0.0.0.0']] } } },
    { delete: { element: { ...T, name: 'addr4', elem: [{ concat: ['10.0.0.1', 'tcp', 81] }] } } },
    { create: { element: { ...T, name: 'addr4', elem: [[{ concat: ['10.0.0.2', 'tcp', 81] }, '0.0.0.0']] } } },
    { delete: { element: { ...T, name: 'addr4', elem: [{ concat: ['10.0.0.2', 'tcp', 81] }] } } },
  ]);
});

test('the skeleton: one table, 8 maps, 7 sets, 6 chains flushed and refilled; its cost does not depend on ports', (t) => {
  const sk = skeleton();
  const kinds = sk.map((c) => `${Object.keys(c)[0]} ${Object.keys(Object.values(c)[0] as object)[0]}`);
  t.deepEqual(kinds.filter((k) => k === 'add map').length, 8);
  t.deepEqual(kinds.filter((k) => k === 'add set').length, 7);
  t.deepEqual(kinds.filter((k) => k === 'flush chain').length, 6);
  t.deepEqual(kinds.filter((k) => k === 'add rule').length, 14);
  t.deepEqual(sk[0], { add: { table: { family: 'inet', name: 'tscni_portmap' } } });
  const guard = sk.filter((c: any) => c.add?.rule?.chain === 'guard').map((c: any) => c.add.rule.expr);
  t.deepEqual(guard[0], [
    { match: { op: '!=', left: { meta: { key: 'iifname' } }, right: 'lo' } },
    { match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: { prefix: { addr: '127.0.0.0', len: 8 } } } },
    { drop: null },
  ]);
  const hostports = sk.filter((c: any) => c.add?.rule?.chain === 'hostports') as any[];
  t.deepEqual(hostports[0].add.rule.expr, [{ jump: { target: 'conditions' } }]);
  const dnat = hostports[1];
  t.deepEqual(dnat.add.rule.expr[1], { dnat: { family: 'ip',
    addr: { map: { key: { concat: [{ payload: { protocol: 'ip', field: 'daddr' } }, { meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] }, data: '@addr4' } },
    port: { map: { key: { concat: [{ payload: { protocol: 'ip', field: 'daddr' } }, { meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] }, data: '@port4' } } } });
});

// A listing as `nft -j list table inet tscni_portmap` prints it (nft 1.0.6).
const listing = [
  { metainfo: { version: '1.0.6' } },
  { table: { family: 'inet', name: TABLE, handle: 1 } },
  { map: { ...T, name: 'addr4_any', type: ['inet_proto', 'inet_service'], map: 'ipv4_addr', elem: [[{ elem: { val: { concat: ['tcp', 8080] }, comment: 'net c1 eth0' } }, '10.88.0.5']] } },
  { map: { ...T, name: 'port4_any', type: ['inet_proto', 'inet_service'], map: 'inet_service', elem: [[{ elem: { val: { concat: ['tcp', 8080] }, comment: 'net c1 eth0' } }, 80]] } },
  { map: { ...T, name: 'addr4', type: ['ipv4_addr', 'inet_proto', 'inet_service'], map: 'ipv4_addr', elem: [[{ elem: { val: { concat: ['10.0.0.1', 'udp', 53] }, comment: 'net c2 eth0' } }, '10.88.0.6']] } },
  { set: { ...T, name: 'all4', type: 'ipv4_addr', elem: [{ elem: { val: '10.88.0.5', comment: 'net c1 eth0' } }] } },
  { set: { ...T, name: 'hostips', type: 'ipv6_addr', elem: ['::ffff:10.0.0.1'] } },
];

test('listings: elements with owner comments, removal batches grouped per map, and conflicts named in Docker\'s words', (t) => {
  const items = listedElements(listing);
  t.deepEqual(items, [
    { name: 'addr4_any', key: { concat: ['tcp', 8080] }, value: '10.88.0.5', comment: 'net c1 eth0' },
    { name: 'port4_any', key: { concat: ['tcp', 8080] }, value: 80, comment: 'net c1 eth0' },
    { name: 'addr4', key: { concat: ['10.0.0.1', 'udp', 53] }, value: '10.88.0.6', comment: 'net c2 eth0' },
    { name: 'all4', key: '10.88.0.5', value: undefined, comment: 'net c1 eth0' },
    { name: 'hostips', key: '::ffff:10.0.0.1', value: undefined },
  ]);
  t.deepEqual(removal(items.filter((i) => i.comment === 'net c1 eth0')), [
    { delete: { element: { ...T, name: 'addr4_any', elem: [{ concat: ['tcp', 8080] }] } } },
    { delete: { element: { ...T, name: 'port4_any', elem: [{ concat: ['tcp', 8080] }] } } },
    { delete: { element: { ...T, name: 'all4', elem: ['10.88.0.5'] } } },
  ]);
  t.deepEqual(keyParts({ concat: ['10.0.0.1', 'udp', 53] }), { hostIP: '10.0.0.1', protocol: 'udp', hostPort: 53 });
  const want = (m: unknown[]) => entriesOf(cfgOf(m), [v4]);
  t.is(findConflict(want([{ hostPort: 8080, containerPort: 1, hostIP: '10.0.0.9' }]), items)?.message, 'port is already allocated: tcp 10.0.0.9:8080 held by container c1');
  t.is(findConflict(want([{ hostPort: 53, containerPort: 1, protocol: 'udp' }]), items)?.message, 'port is already allocated: udp 0.0.0.0:53 held by container c2');
  t.is(findConflict(want([{ hostPort: 53, containerPort: 1, protocol: 'udp', hostIP: '10.0.0.2' }]), items), undefined);
  t.is(findConflict(want([{ hostPort: 53, containerPort: 1 }]), items), undefined, 'another protocol');
});

test('CHECK read-back names the first problem; STATUS names what is missing', (t) => {
  const items = listedElements(listing);
  const e = entriesOf(cfgOf([{ hostPort: 8080, containerPort: 80 }]), [v4]);
  t.is(checkEntries(e, items, 'net c1 eth0'), undefined);
  t.is(checkEntries(e, items, 'net c9 eth0'), 'portMappings[0] tcp 0.0.0.0:8080 is held by "net c1 eth0", not "net c9 eth0"');
  t.is(checkEntries(entriesOf(cfgOf([{ hostPort: 8080, containerPort: 81 }]), [v4]), items, 'net c1 eth0'), 'portMappings[0] tcp 0.0.0.0:8080 points at 80 in map port4_any, expected 81');
  t.is(checkEntries(entriesOf(cfgOf([{ hostPort: 8080, containerPort: 80 }]), [v6]), items, 'net c1 eth0'), 'portMappings[0] tcp [::]:8080 is not published (no element in map addr6_any)');
  t.is(statusProblem(undefined), 'table inet tscni_portmap is missing (flushed ruleset?)');
  t.is(statusProblem(listing), 'table inet tscni_portmap lacks chain prerouting, chain output, chain hostports, chain conditions, chain postrouting, chain guard, map port4, map addr6, map port6, map addr6_any, map port6_any, set hairpin4, set hairpin6, set local4, set all6, set condsets');
  const whole = skeleton().filter((c: any) => c.add).map((c: any) => c.add);
  t.is(statusProblem(whole), undefined);
  t.is(statusProblem(whole.filter((o: any) => !(o.rule?.chain === 'hostports'))), 'table inet tscni_portmap: chain hostports has 0 rules, expected 5');
  // A conditions set registered in `condsets` needs its chain with four rules, its maps, and a jump in `conditions`.
  const cond = conditionsOf(['ip', 'saddr', '10.0.0.0/8'], [])!;
  const withSet = [...whole, ...conditionSet(cond).filter((c: any) => c.add && !c.add.element).map((c: any) => c.add), ...jumps([cond.tag]).map((c: any) => c.add)];
  const registered = withSet.map((o: any) => (o.set?.name === 'condsets' ? { set: { ...o.set, elem: [parseInt(cond.tag, 16)] } } : o));
  t.is(statusProblem(registered), undefined);
  t.is(statusProblem(registered.filter((o: any) => o.rule?.chain !== 'conditions')), 'table inet tscni_portmap: chain conditions has 0 rules, expected 1');
  t.is(statusProblem(registered.filter((o: any) => o.map?.name !== `addr4_c${cond.tag}`)), `table inet tscni_portmap lacks map addr4_c${cond.tag}`);
});

test('owner tags: plain when short, hashed but still per network when long', (t) => {
  t.is(ownerTag('net', 'abc', 'eth0'), 'net abc eth0');
  const long = ownerTag('net', 'c'.repeat(200), 'eth0');
  t.regex(long, /^net #[0-9a-f]{40}$/);
  t.true(belongsTo(long, 'net'));
  t.false(belongsTo(long, 'net2'));
  t.not(long, ownerTag('net', 'c'.repeat(200), 'eth1'));
  t.regex(netToken('n'.repeat(49)), /^#[0-9a-f]{24}$/);
  t.true(ownerTag('n'.repeat(100), 'x'.repeat(64), 'eth0').length <= 127);
  t.is(containerOf('net abc eth0'), 'abc');
});

test('host helpers: longest-prefix route interface from /proc/net/route, conntrack argv per UDP port and family', (t) => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'br0\t0000580A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'cni1\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0',
  ].join('\n');
  t.is(routeInterface(table, '10.88.0.5'), 'br0');
  t.is(routeInterface(table, '10.1.0.5'), 'cni1');
  t.is(routeInterface(table, '8.8.8.8'), 'eth0');
  const e = entriesOf(cfgOf([{ hostPort: 53, containerPort: 53, protocol: 'udp' }, { hostPort: 54, containerPort: 53, protocol: 'udp', hostIP: '::1' }, { hostPort: 80, containerPort: 80 }]), [v4, v6]);
  t.deepEqual(conntrackArgv(e), [
    ['-D', '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', '53'],
    ['-D', '-f', 'ipv6', '-p', 'udp', '--orig-port-dst', '53'],
    ['-D', '-f', 'ipv6', '-p', 'udp', '--orig-port-dst', '54'],
  ]);
});

test('conditions: nftables matches become JSON; the set gets its own maps and chain; probes span every set', (t) => {
  const cond = conditionsOf(['ip saddr', '!=', '{ 10.0.0.0/8, 192.168.1.1 }', 'iifname', 'eth0'], ['ip6', 'daddr', 'fd00::1'])!;
  t.regex(cond.tag, /^[0-9a-f]{8}$/);
  t.deepEqual(cond.v4, [
    { match: { op: '!=', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: { set: [{ prefix: { addr: '10.0.0.0', len: 8 } }, '192.168.1.1'] } } },
    { match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'eth0' } },
  ]);
  t.deepEqual(cond.v6, [{ match: { op: '==', left: { payload: { protocol: 'ip6', field: 'daddr' } }, right: 'fd00::1' } }]);
  const cfg = cfgOf([{ hostPort: 80, containerPort: 8080 }], { conditionsV4: ['ip saddr', '!=', '{ 10.0.0.0/8, 192.168.1.1 }', 'iifname', 'eth0'], conditionsV6: ['ip6', 'daddr', 'fd00::1'] });
  t.is(cfg.conditions?.tag, cond.tag);
  const e = entriesOf(cfg, [v4]);
  t.deepEqual(e, [{ family: 4, index: 0, protocol: 'tcp', hostPort: 80, hostIP: undefined, address: '10.88.0.5', containerPort: 8080, tag: cond.tag }]);
  const set = conditionSet(cond) as any[];
  t.deepEqual(set.filter((c) => c.add?.map).map((c) => c.add.map.name), ['addr4', 'port4', 'addr4_any', 'port4_any', 'addr6', 'port6', 'addr6_any', 'port6_any'].map((n) => `${n}_c${cond.tag}`));
  const v4any = set.find((c) => c.add?.rule && c.add.rule.expr.at(-1).dnat.addr.map.data === `@addr4_any_c${cond.tag}`).add.rule;
  t.is(v4any.chain, `cond_${cond.tag}`);
  t.deepEqual(v4any.expr.slice(0, 3), [{ match: { op: '==', left: { meta: { key: 'nfproto' } }, right: 'ipv4' } }, ...cond.v4]);
  t.deepEqual(jumps(['b', 'a', 'b']), [
    { add: { rule: { ...T, chain: 'conditions', expr: [{ jump: { target: 'cond_a' } }] } } },
    { add: { rule: { ...T, chain: 'conditions', expr: [{ jump: { target: 'cond_b' } }] } } },
  ]);
  const names = (probes(e, [], ['0000beef']) as any[]).filter((c) => c.create).map((c) => c.create.element.name);
  t.deepEqual(names, ['addr4_any', `addr4_any_c0000beef`], 'the same key in the unconditioned set and the other conditions set');
  for (const [tokens, why] of [
    [['tcp', 'dport', '80'], 'unknown match "tcp"'],
    [['ip', 'saddr', 'fd00::1'], 'value "fd00::1" does not fit its selector'],
    [['ip', 'saddr'], 'ip saddr needs a value'],
    [['iifname', '{', 'eth0'], 'unterminated set'],
  ] as const) {
    const [code, msg] = (() => { try { conditionsOf([...tokens], []); return [0, '']; } catch (err: any) { return [err.code, err.message]; } })();
    t.is(code, 2);
    t.true(msg.includes(why), msg);
  }
});
