// The runner's policy as nft JSON, exactly (what isolation.ts sends in one transaction).

import test from 'ava';
import { hostVethOf, policyBatch, policyOf } from '../../../lib/runner/isolation.ts';
import { parseOpts } from '../../../lib/runner/cli/network.ts';

const inet = { family: 'inet', table: 'tscni_runner' };
const br = { family: 'bridge', table: 'tscni_runner' };
const m = (left: unknown, right: unknown, op = '==') => ({ match: { op, left, right } });
const meta = (key: string) => ({ meta: { key } });

test('policyBatch: idempotent objects, our rules afresh, the admin chain only added, elements keyed by bridge', (t) => {
  const base = [
    { add: { table: { family: 'inet', name: 'tscni_runner' } } },
    { add: { chain: { ...inet, name: 'forward', type: 'filter', hook: 'forward', prio: -10, policy: 'accept' } } },
    { add: { chain: { ...inet, name: 'user' } } },
    { add: { set: { ...inet, name: 'bridges', type: 'ifname' } } },
    { add: { set: { ...inet, name: 'internal', type: 'ifname' } } },
    { add: { set: { ...inet, name: 'same', type: ['ifname', 'ifname'] } } },
    { flush: { chain: { ...inet, name: 'forward' } } },
    { add: { rule: { ...inet, chain: 'forward', expr: [{ jump: { target: 'user' } }] } } },
    { add: { rule: { ...inet, chain: 'forward', expr: [m({ concat: [meta('iifname'), meta('oifname')] }, '@same'), { accept: null }] } } },
    { add: { rule: { ...inet, chain: 'forward', expr: [m(meta('iifname'), '@internal'), { drop: null }] } } },
    { add: { rule: { ...inet, chain: 'forward', expr: [m(meta('oifname'), '@internal'), { drop: null }] } } },
    { add: { rule: { ...inet, chain: 'forward', expr: [m({ ct: { key: 'status' } }, 'dnat', 'in'), { accept: null }] } } },
    { add: { rule: { ...inet, chain: 'forward', expr: [m(meta('iifname'), '@bridges'), m(meta('oifname'), '@bridges'), { drop: null }] } } },
    { add: { element: { ...inet, name: 'bridges', elem: ['br1'] } } },
    { add: { element: { ...inet, name: 'same', elem: [{ concat: ['br1', 'br1'] }] } } },
    { add: { table: { family: 'bridge', name: 'tscni_runner' } } },
    { add: { chain: { ...br, name: 'forward', type: 'filter', hook: 'forward', prio: -10, policy: 'accept' } } },
    { add: { set: { ...br, name: 'noicc_ports', type: 'ifname' } } },
    { flush: { chain: { ...br, name: 'forward' } } },
    { add: { rule: { ...br, chain: 'forward', expr: [m(meta('iifname'), '@noicc_ports'), m(meta('oifname'), '@noicc_ports'), m(meta('protocol'), { set: ['ip', 'ip6'] }), { drop: null }] } } },
  ];
  t.deepEqual(policyBatch({ bridge: 'br1', internal: false, icc: true }), base);
  t.deepEqual(policyBatch({ bridge: 'br1', internal: true, icc: false }), [...base, { add: { element: { ...inet, name: 'internal', elem: ['br1'] } } }]);
  // Never a flush of the admin's chain.
  t.false(JSON.stringify(base).includes('"flush":{"chain":{"family":"inet","table":"tscni_runner","name":"user"'));
});

test('policyOf reads the bridge and the runner options; hostVethOf finds the host side', (t) => {
  const list = (plugins: any[], extra: object = {}) => ({ plugins, bytes: Buffer.from(JSON.stringify({ plugins, ...extra })) });
  t.deepEqual(policyOf(list([{ type: 'bridge', bridge: 'b0' }], { tscni: { internal: true, icc: false } })), { bridge: 'b0', internal: true, icc: false });
  t.deepEqual(policyOf(list([{ type: 'bridge' }])), { bridge: 'cni0', internal: false, icc: true });
  t.is(policyOf(list([{ type: 'macvlan' }])), undefined);
  t.is(hostVethOf({ interfaces: [{ name: 'b0' }, { name: 'veth1a' }, { name: 'eth0', sandbox: '/n' }] }, 'b0'), 'veth1a');
  t.is(hostVethOf(undefined, 'b0'), undefined);
  t.is(parseOpts(['icc=false']), false);
  t.is(parseOpts(['com.docker.network.bridge.enable_icc=true']), true);
  t.is(parseOpts([]), undefined);
  t.throws(() => parseOpts(['mtu=1400']), { message: 'invalid --opt "mtu=1400": supported is icc=true|false' });
});
