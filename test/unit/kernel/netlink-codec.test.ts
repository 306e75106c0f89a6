// The netlink codec's exported behaviour, byte for byte: attributes (length, type, 4-byte padding, nesting),
// parsing a run of them, and address and MAC conversions.

import test from 'ava';
import { attr, ipToBytes, ipToString, macFromString, parseAttrs } from '../../../lib/kernel/netlink-codec.ts';

const hex = (b: Buffer) => b.toString('hex');

test('attr: little-endian length (header + payload, unpadded) and type, payload padded to 4 bytes', (t) => {
  t.is(hex(attr(3, Buffer.from('eth0\0'))), '0900' + '0300' + '6574683000' + '000000');
  t.is(hex(attr(4, Buffer.from([0xdc, 0x05, 0, 0]))), '0800' + '0400' + 'dc050000', 'an aligned payload gets no padding');
  t.is(hex(attr(16, Buffer.alloc(0))), '0400' + '1000', 'an empty attribute is its header');
  t.is(hex(attr(0x8012, Buffer.from([1]))), '0500' + '1280' + '01' + '000000', 'the type is written as given (NLA_F_NESTED included)');
});

test('parseAttrs: by type, padding skipped, nested flag masked off, last one wins, a truncated tail ignored', (t) => {
  const run = Buffer.concat([attr(3, Buffer.from('br0\0')), attr(0x8012, Buffer.from([7, 7, 7])), attr(4, Buffer.from([1, 0, 0, 0])), attr(4, Buffer.from([2, 0, 0, 0]))]);
  const m = parseAttrs(run);
  t.deepEqual([...m.keys()].sort((a, b) => a - b), [3, 4, 0x12]);
  t.is(hex(m.get(3)!), '62723000');
  t.is(hex(m.get(0x12)!), '070707', 'the value excludes padding');
  t.is(hex(m.get(4)!), '02000000');
  t.deepEqual([...parseAttrs(Buffer.concat([Buffer.alloc(4, 0xff), attr(5, Buffer.from([9]))]), 4).entries()].map(([k, v]) => [k, hex(v)]), [[5, '09']], 'from an offset');
  const cut = Buffer.concat([attr(1, Buffer.from([1, 2, 3, 4])), Buffer.from([0x10, 0x00, 0x02, 0x00, 0xaa])]);
  t.deepEqual([...parseAttrs(cut).keys()], [1], 'an attribute claiming more bytes than remain is not read');
  t.is(parseAttrs(Buffer.alloc(0)).size, 0);
});

test('ipToBytes: IPv4 dotted quad, IPv6 with and without ::, an embedded IPv4 tail', (t) => {
  t.is(hex(ipToBytes('10.1.2.3')), '0a010203');
  t.is(hex(ipToBytes('255.255.255.255')), 'ffffffff');
  t.is(hex(ipToBytes('fd00::1')), 'fd000000000000000000000000000001');
  t.is(hex(ipToBytes('::')), '0'.repeat(32));
  t.is(hex(ipToBytes('1:2:3:4:5:6:7:8')), '00010002000300040005000600070008');
  t.is(hex(ipToBytes('FE80::A:b')), 'fe8000000000000000000000000a000b', 'hex digits in either case');
  t.is(hex(ipToBytes('::ffff:192.0.2.1')), '00000000000000000000ffffc0000201');
});

test('ipToBytes throws on malformed text', (t) => {
  for (const bad of ['10.1.2', '10.1.2.256', '1.2.3.4.5', 'a.b.c.d', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'fd00::g', '12345::1']) {
    t.throws(() => ipToBytes(bad), undefined, bad);
  }
});

test('ipToString: IPv4, IPv6 with the longest zero run compressed (not a single zero group)', (t) => {
  t.is(ipToString(Buffer.from([192, 0, 2, 1])), '192.0.2.1');
  t.is(ipToString(Buffer.from('fd000000000000000000000000000001', 'hex')), 'fd00::1');
  t.is(ipToString(Buffer.alloc(16)), '::');
  t.is(ipToString(Buffer.from('00010000000300040005000600070008', 'hex')), '1:0:3:4:5:6:7:8');
  t.is(ipToString(Buffer.from('00010000000000040005000000000000', 'hex')), '1:0:0:4:5::');
  t.is(ipToString(Buffer.from('fe80000000000000020000fffe000001', 'hex')), 'fe80::200:ff:fe00:1');
  for (const ip of ['10.0.0.1', 'fd09::5', '2001:db8:0:1::1', '1::']) t.is(ipToString(ipToBytes(ip)), ip, `round trip ${ip}`);
});

test('macFromString: six hex octets, either case', (t) => {
  t.is(hex(macFromString('02:42:ac:11:00:02')), '0242ac110002');
  t.is(hex(macFromString('0E:FF:00:aB:01:9c')), '0eff00ab019c');
});
