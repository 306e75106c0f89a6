// tscni's rtnetlink codec against the npm `netlink` package's codec as an independent oracle: what ours encodes
// the package decodes to the same fields, and what the package encodes ours decodes. (The package's codec is not
// loaded at run time: under Bun it costs a plugin ~4.6 ms of CPU to load, more than loopback's whole job.)

import test from 'ava';
import { createRequire } from 'node:module';
import {
  AF, IFA, IFF, IFLA, IFLA_INFO, RTA, RTAX, attr, attrNested, attrStr, attrU32, ifaddrmsg, ifinfomsg, ipToBytes,
  macFromString, parseAttrs, readStr, readU32, rtmsg,
} from '../../../lib/kernel/netlink-codec.ts';

const require = createRequire(import.meta.url);
const rt = require('netlink/dist/rt/structs.js');
const { AttrStream } = require('netlink/dist/structs.js');

const encode = (fn: (x: unknown, out: unknown) => void, msg: unknown): Buffer => {
  const out = new AttrStream();
  fn(msg, out);
  return Buffer.concat(out.bufs);
};

test('a link message of ours reads the same through the package', (t) => {
  const msg = Buffer.concat([
    ifinfomsg({ index: 7, flags: IFF.UP, change: IFF.UP }),
    attrStr(IFLA.IFNAME, 'eth0'),
    attrU32(IFLA.MTU, 1400),
    attr(IFLA.ADDRESS, macFromString('02:42:ac:11:00:02')),
    attrU32(IFLA.MASTER, 3),
    attrNested(IFLA.LINKINFO, [attrStr(IFLA_INFO.KIND, 'veth')]),
  ]);
  const parsed = rt.parseLinkMessage(msg);
  t.is(parsed.data.index, 7);
  t.true(parsed.data.flags.up);
  t.true(parsed.data.change.up);
  t.is(parsed.attrs.ifname, 'eth0');
  t.is(parsed.attrs.mtu, 1400);
  t.deepEqual([...parsed.attrs.address], [0x02, 0x42, 0xac, 0x11, 0x00, 0x02]);
  t.is(parsed.attrs.master, 3);
  // The package leaves IFLA_LINKINFO raw: its first attribute is the kind, NUL-terminated.
  t.is(readStr(parseAttrs(parsed.attrs.linkinfo).get(IFLA_INFO.KIND)), 'veth');
});

test('an address message of ours reads the same through the package', (t) => {
  const bytes = ipToBytes('10.42.0.5');
  const msg = Buffer.concat([ifaddrmsg({ family: AF.INET, prefixlen: 24, index: 9 }), attr(IFA.LOCAL, bytes), attr(IFA.ADDRESS, bytes)]);
  const parsed = rt.parseAddressMessage(msg);
  t.is(parsed.data.family, AF.INET);
  t.is(parsed.data.prefixlen, 24);
  t.is(parsed.data.index, 9);
  t.deepEqual([...parsed.attrs.local], [10, 42, 0, 5]);
  t.deepEqual([...parsed.attrs.address], [10, 42, 0, 5]);
});

test('a route message of ours reads the same through the package', (t) => {
  const msg = Buffer.concat([
    rtmsg({ family: AF.INET6, dstLen: 64, table: 254, protocol: 3, scope: 0, type: 1 }),
    attr(RTA.DST, ipToBytes('fd00:42::')),
    attr(RTA.GATEWAY, ipToBytes('fd00::1')),
    attrU32(RTA.OIF, 4),
    attrU32(RTA.PRIORITY, 100),
    attrNested(RTA.METRICS, [attrU32(RTAX.MTU, 1450)]),
  ]);
  const parsed = rt.parseRouteMessage(msg);
  t.is(parsed.data.family, AF.INET6);
  t.is(parsed.data.dstLen, 64);
  t.is(parsed.data.table, 254);
  t.is(parsed.data.protocol, 'BOOT');
  t.is(parsed.data.type, 'UNICAST');
  t.deepEqual([...parsed.attrs.dst], [...ipToBytes('fd00:42::')]);
  t.deepEqual([...parsed.attrs.gateway], [...ipToBytes('fd00::1')]);
  t.is(parsed.attrs.oif, 4);
  t.is(parsed.attrs.priority, 100);
  t.is(parsed.attrs.metrics.mtu.readUInt32LE(0), 1450); // the package leaves metric values raw
});

test('a link message the package encodes reads the same through ours', (t) => {
  const msg = encode(rt.formatLinkMessage, { kind: 'link', data: { index: 12, flags: { up: true, promisc: true } }, attrs: { ifname: 'tscni0', mtu: 9000, master: 2 } });
  t.is(msg.readInt32LE(4), 12);
  t.is(msg.readUInt32LE(8), IFF.UP | IFF.PROMISC);
  const attrs = parseAttrs(msg, 16);
  t.is(readStr(attrs.get(IFLA.IFNAME)), 'tscni0');
  t.is(readU32(attrs.get(IFLA.MTU)), 9000);
  t.is(readU32(attrs.get(IFLA.MASTER)), 2);
});

test('an address message the package encodes reads the same through ours', (t) => {
  const msg = encode(rt.formatAddressMessage, { kind: 'address', data: { family: AF.INET6, prefixlen: 64, index: 5 }, attrs: { address: ipToBytes('fd00::2') } });
  t.deepEqual([msg[0], msg[1], msg.readUInt32LE(4)], [AF.INET6, 64, 5]);
  t.deepEqual([...parseAttrs(msg, 8).get(IFA.ADDRESS)!], [...ipToBytes('fd00::2')]);
});
