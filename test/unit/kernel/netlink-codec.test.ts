// Exact bytes of the rtnetlink messages the node agent sends: VXLAN link data, ndmsg for FDB and neighbour entries.

import test from 'ava';
import { AF, NTF, NUD, ndmsg, parseVxlanInfoData, vxlanInfoData } from '../../../lib/kernel/netlink-codec.ts';

const hex = (b: Buffer | Buffer[]) => (Array.isArray(b) ? Buffer.concat(b) : b).toString('hex');

test('vxlanInfoData: VNI, underlay link, local v4, learning off, port in network byte order', (t) => {
  const data = vxlanInfoData({ vni: 0x123456, link: 3, local: '192.168.50.11', port: 8472 });
  t.is(hex(data), [
    '0800' + '0100' + '56341200', // IFLA_VXLAN_ID u32 little endian
    '0800' + '0300' + '03000000', // IFLA_VXLAN_LINK
    '0800' + '0400' + 'c0a8320b', // IFLA_VXLAN_LOCAL in_addr
    '0500' + '0700' + '00000000', // IFLA_VXLAN_LEARNING u8 0, padded
    '0600' + '0f00' + '21180000', // IFLA_VXLAN_PORT be16 8472 = 0x2118, padded
  ].join(''));
  t.deepEqual(parseVxlanInfoData(Buffer.concat(data)), { vni: 0x123456, link: 3, local: '192.168.50.11', port: 8472 });
});

test('vxlanInfoData: an IPv6 underlay uses IFLA_VXLAN_LOCAL6 (17)', (t) => {
  const data = vxlanInfoData({ vni: 1, link: 2, local: 'fd00:50::1', port: 4789 });
  t.is(hex(data[2]), '1400' + '1100' + 'fd000050000000000000000000000001');
  t.deepEqual(parseVxlanInfoData(Buffer.concat(data)), { vni: 1, link: 2, local: 'fd00:50::1', port: 4789 });
});

test('ndmsg: an FDB entry header is AF_BRIDGE, ifindex, NUD_PERMANENT, NTF_SELF', (t) => {
  t.is(hex(ndmsg({ family: AF.BRIDGE, index: 5, state: NUD.PERMANENT, flags: NTF.SELF })), '07000000' + '05000000' + '8000' + '02' + '00');
});

test('ndmsg: a neighbour entry header is AF_INET6 with no flags', (t) => {
  t.is(hex(ndmsg({ family: AF.INET6, index: 258, state: NUD.PERMANENT })), '0a000000' + '02010000' + '8000' + '00' + '00');
});
