// lib/net/ip.ts: strict parsing like Go's net.ParseIP, canonical text, prefix maths on values and on text.

import test from 'ava';
import { errorOf } from '../../helpers/errors.ts';
import {
  canonicalIp, cidrContains, familyOfText, firstHost, formatCidr, formatIp, isIp, lastOf, maskLength, networkOf, networkText, parseCidr, parseIp, splitCidr,
} from '../../../lib/net/ip.ts';

test('parseIp: dotted quads without leading zeros, IPv6 without zones, IPv4-mapped becomes IPv4', (t) => {
  t.deepEqual(parseIp('10.1.2.3'), { family: 4, n: 0x0a010203n });
  t.deepEqual(parseIp('fd00::1'), { family: 6, n: (0xfd00n << 112n) | 1n });
  t.deepEqual(parseIp('::ffff:192.0.2.1'), { family: 4, n: 0xc0000201n });
  for (const bad of ['010.1.2.3', '10.1.2', '256.0.0.1', 'fe80::1%eth0', '0x7f.1', '127.1', '', 'x']) t.is(parseIp(bad), undefined, bad);
});

test('parseCidr / formatCidr: strict prefix, host bits kept; network and last address', (t) => {
  const c = parseCidr('10.1.2.77/24')!;
  t.is(formatCidr(c), '10.1.2.77/24');
  t.is(formatIp(networkOf(c)), '10.1.2.0');
  t.is(formatIp(lastOf(c)), '10.1.2.255');
  t.is(formatIp(lastOf(parseCidr('fd00:1::/64')!)), 'fd00:1::ffff:ffff:ffff:ffff');
  for (const bad of ['10.0.0.0/33', '10.0.0.0/08', '10.0.0.0', 'fd00::/129', '10.0.0.0/-1']) t.is(parseCidr(bad), undefined, bad);
  t.true(cidrContains(c, parseIp('10.1.2.1')!));
  t.false(cidrContains(c, parseIp('10.1.3.1')!));
  t.false(cidrContains(c, parseIp('::a01:201')!), 'never across families');
  t.true(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('8.8.8.8')!));
});

test('maskLength counts the leading ones of a netmask', (t) => {
  t.is(maskLength(0xffffff00n, 4), 24);
  t.is(maskLength(0n, 4), 0);
  t.is(maskLength(0xffffffffn, 4), 32);
  t.is(maskLength(((1n << 64n) - 1n) << 64n, 6), 64);
});

test('text helpers: canonical form, family, validity', (t) => {
  t.is(canonicalIp('fd00:0:0::0001'), 'fd00::1');
  t.is(canonicalIp('10.0.0.1'), '10.0.0.1');
  t.is(familyOfText('::ffff:1.2.3.4'), 6);
  t.is(familyOfText('1.2.3.4'), 4);
  t.true(isIp('fd00::1'));
  t.false(isIp('<address from IPAM>'));
});

test('splitCidr: canonical text, code 7 naming the field for anything else', (t) => {
  t.deepEqual(splitCidr('fd09:0::5/64'), { ip: 'fd09::5', prefixLen: 64, v6: true });
  t.deepEqual(splitCidr('10.9.0.5/24'), { ip: '10.9.0.5', prefixLen: 24, v6: false });
  t.deepEqual(errorOf(() => splitCidr('10.9.0.5')), [7, 'invalid address "10.9.0.5": must be address/prefix']);
  t.deepEqual(errorOf(() => splitCidr('10.9.0.5/33', 'route dst')), [7, 'invalid route dst "10.9.0.5/33": prefix too long']);
  t.deepEqual(errorOf(() => splitCidr('10.9.0.5/24/1')), [7, 'invalid address "10.9.0.5/24/1": must be address/prefix']);
});

test('networkText and firstHost on text', (t) => {
  t.is(networkText({ ip: '10.1.2.3', prefixLen: 24, v6: false }), '10.1.2.0');
  t.is(networkText({ ip: 'fd00:1::5', prefixLen: 64, v6: true }), 'fd00:1::');
  t.is(firstHost({ ip: '10.1.255.7', prefixLen: 16, v6: false }), '10.1.0.1');
  t.is(firstHost({ ip: 'fd00:1::99', prefixLen: 64, v6: true }), 'fd00:1::1');
  t.is(firstHost({ ip: '255.255.255.255', prefixLen: 32, v6: false }), '0.0.0.0', 'wraps within the family');
});
