// The one owner check DEL, CHECK and GC make before touching a link: a host veth whose alias passes the owner test.

import test from 'ava';
import type { Link } from '../../../lib/kernel/netlink.ts';
import { ownedBy } from '../../../plugins/bridge/ownership.ts';

const link = (extra: Partial<Link>): Link => ({ index: 7, name: 'veth0a1b2c3d', flags: 0, mtu: 1500, up: true, ...extra }) as Link;
const mine = (a: string) => a === 'tscni n c1/eth0';

test('owned: a veth with our tag as its alias; not: another tag, no alias, another kind, no link', (t) => {
  t.true(ownedBy(link({ kind: 'veth', alias: 'tscni n c1/eth0' }), mine));
  t.false(ownedBy(link({ kind: 'veth', alias: 'tscni n c2/eth0' }), mine));
  t.false(ownedBy(link({ kind: 'veth' }), mine));
  t.false(ownedBy(link({ kind: 'bridge', alias: 'tscni n c1/eth0' }), mine));
  t.false(ownedBy(undefined, mine));
  t.true(ownedBy(link({ kind: 'veth', alias: 'tscni n c9/eth0' }), (a) => a.startsWith('tscni n ')), 'GC passes a network-wide test');
});
