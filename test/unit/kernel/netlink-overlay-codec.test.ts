// Exact bytes of the overlay messages the agent sends (VXLAN link data, FDB and neighbour entries, owned routes).

import test from 'ava';
import { AF, NTF, NUD, fdbEntry, ndmsg, neighEntry, parseVxlanInfoData, routeVia, vxlanInfoData } from '../../../lib/kernel/netlink-codec.ts';

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

test('fdbEntry: ndmsg (AF_BRIDGE, NUD_PERMANENT, NTF_SELF), NDA_LLADDR, NDA_DST', (t) => {
  t.is(hex(fdbEntry(5, '0a:58:0a:f4:02:00', '172.16.2.2')), [
    '07000000' + '05000000' + '8000' + '02' + '00',
    '0a00' + '0200' + '0a580af40200' + '0000', // NDA_LLADDR, 6 bytes padded to 8
    '0800' + '0100' + 'ac100202', //               NDA_DST
  ].join(''));
});

test('neighEntry: a permanent IPv4 entry with its MAC; a delete carries no MAC and no state', (t) => {
  t.is(hex(neighEntry(5, '10.244.2.0', '0a:58:0a:f4:02:00')), '02000000' + '05000000' + '8000' + '00' + '00' + '0800' + '0100' + '0af40200' + '0a00' + '0200' + '0a580af40200' + '0000');
  t.is(hex(neighEntry(5, 'fd00:244:2::', undefined, 0)), '0a000000' + '05000000' + '0000' + '00' + '00' + '1400' + '0100' + 'fd000244000200000000000000000000');
});

test('routeVia: rtmsg with the owner\'s protocol and RTNH_F_ONLINK, then RTA_DST, RTA_GATEWAY, RTA_OIF', (t) => {
  t.is(hex(routeVia({ dst: '10.244.2.0', dstLen: 24, gw: '10.244.2.0', oif: 7, onlink: true }, 126)), [
    '02' + '18' + '00' + '00' + 'fe' + '7e' + '00' + '01' + '04000000', // family, dst_len 24, src_len, tos, main, proto 126, universe, unicast, flags
    '0800' + '0100' + '0af40200',
    '0800' + '0500' + '0af40200',
    '0800' + '0400' + '07000000',
  ].join(''));
  t.is(hex(routeVia({ dst: '10.244.3.0', dstLen: 24 }, 126)), '02180000fe7e0001' + '00000000' + '0800' + '0100' + '0af40300', 'a delete: no gateway, no flags');
});
