// Unit tests of the pure nft JSON: constant rules, tagged elements, listing back, deleting by owner.

import test from 'ava';
import { attachmentBatch, deleteElements, masqBase, masqElements, ownedElements, parseCidr, spoofElements } from '../../../plugins/bridge/masq-rules.ts';

const T = { family: 'inet', table: 'tscni_bridge' };
const saddr = (p: string) => ({ payload: { protocol: p, field: 'saddr' } });
const daddr = (p: string) => ({ payload: { protocol: p, field: 'daddr' } });
const rule = (expr: unknown[]) => ({ add: { rule: { ...T, chain: 'postrouting', expr } } });

test('the masquerade base: table, six sets, a flushed srcnat chain with eight constant rules', (t) => {
  const b = masqBase();
  t.deepEqual(b.slice(0, 9), [
    { add: { table: { family: 'inet', name: 'tscni_bridge' } } },
    { add: { set: { ...T, name: 'masq4', type: 'ipv4_addr', comment: 'container addresses to masquerade (owner in each comment)' } } },
    { add: { set: { ...T, name: 'masq6', type: 'ipv6_addr', comment: 'container addresses to masquerade (owner in each comment)' } } },
    { add: { set: { ...T, name: 'local4', type: ['ipv4_addr', 'ipv4_addr'], flags: ['interval'], comment: 'container address . its own subnet: not masqueraded' } } },
    { add: { set: { ...T, name: 'local6', type: ['ipv6_addr', 'ipv6_addr'], flags: ['interval'], comment: 'container address . its own subnet: not masqueraded' } } },
    { add: { set: { ...T, name: 'nomasq4', type: 'ipv4_addr', flags: ['interval'], comment: 'destinations never masqueraded: pod CIDRs of every node (filled by tscni agent)' } } },
    { add: { set: { ...T, name: 'nomasq6', type: 'ipv6_addr', flags: ['interval'], comment: 'destinations never masqueraded: pod CIDRs of every node (filled by tscni agent)' } } },
    { add: { chain: { ...T, name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } } },
    { flush: { chain: { ...T, name: 'postrouting' } } },
  ]);
  t.deepEqual(b.slice(9), [
    rule([{ match: { op: '==', left: daddr('ip'), right: { prefix: { addr: '224.0.0.0', len: 4 } } } }, { return: null }]),
    rule([{ match: { op: '==', left: daddr('ip6'), right: { prefix: { addr: 'ff00::', len: 8 } } } }, { return: null }]),
    rule([{ match: { op: '==', left: { concat: [saddr('ip'), daddr('ip')] }, right: '@local4' } }, { return: null }]),
    rule([{ match: { op: '==', left: { concat: [saddr('ip6'), daddr('ip6')] }, right: '@local6' } }, { return: null }]),
    rule([{ match: { op: '==', left: daddr('ip'), right: '@nomasq4' } }, { return: null }]),
    rule([{ match: { op: '==', left: daddr('ip6'), right: '@nomasq6' } }, { return: null }]),
    rule([{ match: { op: '==', left: saddr('ip'), right: '@masq4' } }, { masquerade: null }]),
    rule([{ match: { op: '==', left: saddr('ip6'), right: '@masq6' } }, { masquerade: null }]),
  ]);
});

test('elements per address carry the owner tag; the subnet is the network address', (t) => {
  t.deepEqual(masqElements([parseCidr('10.1.2.3/24'), parseCidr('fd00:1::5/64')], 'tscni n c/eth0'), [
    { add: { element: { ...T, name: 'masq4', elem: [{ elem: { val: '10.1.2.3', comment: 'tscni n c/eth0' } }] } } },
    { add: { element: { ...T, name: 'local4', elem: [{ elem: { val: { concat: ['10.1.2.3', { prefix: { addr: '10.1.2.0', len: 24 } }] }, comment: 'tscni n c/eth0' } }] } } },
    { add: { element: { ...T, name: 'masq6', elem: [{ elem: { val: 'fd00:1::5', comment: 'tscni n c/eth0' } }] } } },
    { add: { element: { ...T, name: 'local6', elem: [{ elem: { val: { concat: ['fd00:1::5', { prefix: { addr: 'fd00:1::', len: 64 } }] }, comment: 'tscni n c/eth0' } }] } } },
  ]);
});

test('the batch of one ADD has a constant size whatever the number of attachments (17 + 2 per address)', (t) => {
  const one = attachmentBatch({ ipMasq: true, macspoofchk: false, addrs: [parseCidr('10.1.0.2/16')], hostVeth: 'veth1', mac: '02:00:00:00:00:01', tag: 'x' });
  t.is(one.length, 19);
  t.deepEqual(attachmentBatch({ ipMasq: false, macspoofchk: false, addrs: [parseCidr('10.1.0.2/16')], hostVeth: 'v', mac: 'm', tag: 'x' }), []);
  t.deepEqual(attachmentBatch({ ipMasq: true, macspoofchk: false, addrs: [], hostVeth: 'v', mac: 'm', tag: 'x' }), [], 'L2 only: nothing to masquerade');
  const spoof = attachmentBatch({ ipMasq: false, macspoofchk: true, addrs: [], hostVeth: 'veth1', mac: '02:00:00:00:00:01', tag: 'x' });
  t.deepEqual(spoof.at(-3), {
    add: { rule: { family: 'bridge', table: 'tscni_bridge', chain: 'prerouting', expr: [
      { match: { op: '==', left: { meta: { key: 'iifname' } }, right: '@spoofchk_ports' } },
      { match: { op: '!=', left: { concat: [{ meta: { key: 'iifname' } }, { payload: { protocol: 'ether', field: 'saddr' } }] }, right: '@spoofchk_allowed' } },
      { drop: null },
    ] } },
  });
  t.deepEqual(spoof.slice(-2), spoofElements('veth1', '02:00:00:00:00:01', 'x'));
});

test('ownedElements reads `nft -j list` output; deleteElements removes exactly those', (t) => {
  const listing = [
    { metainfo: { version: '1.0.6' } },
    { set: { family: 'inet', table: 'tscni_bridge', name: 'masq4', elem: [{ elem: { val: '10.0.0.2', comment: 'tscni n a/eth0' } }, { elem: { val: '10.0.0.3', comment: 'tscni n b/eth0' } }] } },
    { set: { family: 'inet', table: 'other', name: 'masq4', elem: [{ elem: { val: '10.0.0.9', comment: 'tscni n a/eth0' } }] } },
    { set: { family: 'inet', table: 'tscni_bridge', name: 'masq6', elem: ['fd00::1'] } },
  ];
  const owned = ownedElements(listing);
  t.deepEqual(owned, [
    { family: 'inet', set: 'masq4', val: '10.0.0.2', comment: 'tscni n a/eth0' },
    { family: 'inet', set: 'masq4', val: '10.0.0.3', comment: 'tscni n b/eth0' },
  ]);
  t.deepEqual(deleteElements(owned.filter((e) => e.comment === 'tscni n a/eth0')), [
    { delete: { element: { family: 'inet', table: 'tscni_bridge', name: 'masq4', elem: ['10.0.0.2'] } } },
  ]);
});

test('exclusive turns element additions into create; conflicting finds another owner\'s element under our keys', async (t) => {
  const { exclusive, conflicting } = await import('../../../plugins/bridge/masq-rules.ts');
  const batch = attachmentBatch({ ipMasq: true, macspoofchk: false, addrs: [parseCidr('10.1.0.2/24')], hostVeth: 'v', mac: 'm', tag: 'tscni n new/eth0' });
  const ex = exclusive(batch);
  t.deepEqual(ex.slice(0, 17), batch.slice(0, 17), 'table, sets, chain and rules stay idempotent adds');
  t.deepEqual(ex.slice(17), batch.slice(17).map((c) => ({ create: c.add })));
  const owned = [
    { family: 'inet', set: 'masq4', val: '10.1.0.2', comment: 'tscni n old/eth0' },
    { family: 'inet', set: 'masq4', val: '10.1.0.3', comment: 'tscni n other/eth0' },
    { family: 'inet', set: 'local4', val: { concat: ['10.1.0.2', { prefix: { addr: '10.1.0.0', len: 24 } }] }, comment: 'tscni n new/eth0' },
  ];
  t.deepEqual(conflicting(batch, owned, 'tscni n new/eth0'), [owned[0]]);
});
