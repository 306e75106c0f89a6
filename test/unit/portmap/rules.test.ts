// portmap rule planning (pure, exact values): entries, published elements, probes, the skeleton, conditions sets.

import test from 'ava';
import { conditionsOf } from '../../../plugins/portmap/conditions.ts';
import { conditionSet, entriesOf, jumps, probes, publish, skeleton } from '../../../plugins/portmap/rules.ts';
import { cfgOf, T, v4, v6 } from './fixtures.ts';

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
  t.deepEqual(kinds.filter((k) => k === 'add rule').length, 15);
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
