import test from 'ava';
import { errorOf } from '../../helpers/errors.ts';
import { formatIp, parseIp } from '../../../lib/net/ip.ts';
import { allocate, candidates, freeCount, type LeaseView } from '../../../lib/ipam/allocator.ts';
import { parseRangeSet, type RangeSet, type RequestedIp } from '../../../lib/ipam/config.ts';

const set = (...ranges: object[]): RangeSet => parseRangeSet(ranges, 'ipam.ranges[0]');
const walk = (s: RangeSet, last?: string) => [...candidates(s, last ? parseIp(last) : undefined)].map((c) => formatIp(c.ip));

function view(taken: string[] = [], last: Record<number, string> = {}, held: Record<string, string[]> = {}): LeaseView {
  const t = new Set(taken);
  return { isTaken: (ip) => t.has(ip), heldBy: (id, ifn) => held[`${id}/${ifn}`] ?? [], lastReserved: (i) => last[i] };
}
const req = (ip: string, field = 'runtimeConfig.ips[0]'): RequestedIp => ({ ip: parseIp(ip)!, field });
const err = errorOf;

test('walk from rangeStart skips the gateway (.1 by default)', (t) => {
  t.deepEqual(walk(set({ subnet: '10.0.0.0/29' })), ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
});

test('walk starts just after the last reserved address and wraps, the last one coming last', (t) => {
  t.deepEqual(walk(set({ subnet: '10.0.0.0/29' }), '10.0.0.4'), ['10.0.0.5', '10.0.0.6', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
  t.deepEqual(walk(set({ subnet: '10.0.0.0/29' }), '10.0.0.6'), ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
});

test('a last reserved address outside the set restarts at rangeStart', (t) => {
  t.deepEqual(walk(set({ subnet: '10.0.0.0/29', rangeStart: '10.0.0.4' }), '10.9.9.9'), ['10.0.0.4', '10.0.0.5', '10.0.0.6']);
});

test('several pools in one set: round robin from one range to the next, each gateway skipped', (t) => {
  const s = set({ subnet: '10.0.0.0/30' }, { subnet: '10.0.1.0/29', rangeStart: '10.0.1.4', rangeEnd: '10.0.1.5', gateway: '10.0.1.5' });
  t.deepEqual(walk(s), ['10.0.0.2', '10.0.1.4']);
  t.deepEqual(walk(s, '10.0.1.4'), ['10.0.0.2', '10.0.1.4']);
  t.deepEqual(walk(s, '10.0.0.2'), ['10.0.1.4', '10.0.0.2']);
});

test('an explicit gateway outside rangeStart..rangeEnd does not shrink the range', (t) => {
  t.deepEqual(walk(set({ subnet: '10.0.0.0/29', gateway: '10.0.0.6' })), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
});

test('IPv6: default range ends at the last address of the subnet, BigInt math across 64 bits', (t) => {
  t.deepEqual(walk(set({ subnet: 'fd00::/126' })), ['fd00::2', 'fd00::3']);
  const big = set({ subnet: '2001:db8::/64', rangeStart: '2001:db8::ffff:ffff:ffff:fffe' });
  t.deepEqual(walk(big), ['2001:db8::ffff:ffff:ffff:fffe', '2001:db8::ffff:ffff:ffff:ffff']);
});

test('allocate takes the next free address in order and records nothing itself', (t) => {
  const s = set({ subnet: '10.0.0.0/29' });
  const a = allocate([s], view(['10.0.0.2', '10.0.0.3']), [], 'c1', 'eth0');
  t.deepEqual(a.map((x) => [x.setIndex, x.address, formatIp(x.range.gateway)]), [[0, '10.0.0.4', '10.0.0.1']]);
  t.deepEqual(allocate([s], view(['10.0.0.6'], { 0: '10.0.0.5' }), [], 'c1', 'eth0').map((x) => x.address), ['10.0.0.2']);
});

test('exhaustion: code 11 naming the range set, like the reference text', (t) => {
  const s = set({ subnet: '10.0.0.0/30' });
  t.deepEqual(err(() => allocate([s], view(['10.0.0.2']), [], 'c', 'eth0')), [11, 'failed to allocate for range 0: no IP addresses available in range set: 10.0.0.1-10.0.0.2']);
});

test('dual stack: one address per set, in set order', (t) => {
  const sets = [set({ subnet: '10.1.0.0/24' }), set({ subnet: 'fd01::/64' })];
  t.deepEqual(allocate(sets, view(), [], 'c', 'eth0').map((x) => `${x.address}/${x.range.subnet.prefix}`), ['10.1.0.2/24', 'fd01::2/64']);
});

test('requested IPs go to the set that holds them; taken ones fail; stray ones fail', (t) => {
  const sets = [set({ subnet: '10.1.0.0/24' }), set({ subnet: 'fd01::/64' })];
  t.deepEqual(allocate(sets, view(), [req('fd01::99'), req('10.1.0.77')], 'c', 'eth0').map((x) => x.address), ['10.1.0.77', 'fd01::99']);
  t.deepEqual(err(() => allocate(sets, view(['10.1.0.77']), [req('10.1.0.77')], 'c', 'eth0')), [
    999,
    'failed to allocate for range 0: requested IP address 10.1.0.77 is not available in range set 10.1.0.1-10.1.0.254',
  ]);
  t.deepEqual(err(() => allocate(sets, view(), [req('10.2.0.5', 'CNI_ARGS IP')], 'c', 'eth0')), [
    7,
    'failed to allocate all requested IPs: 10.2.0.5 (CNI_ARGS IP) lies in no range set (10.1.0.1-10.1.0.254; fd01::1-fd01::ffff:ffff:ffff:ffff)',
  ]);
});

test('a second allocation for the same attachment in a set is the reference duplicate error', (t) => {
  const s = set({ subnet: '10.0.0.0/24' });
  t.deepEqual(err(() => allocate([s], view(['10.0.0.2'], {}, { 'c/eth0': ['10.0.0.2'] }), [], 'c', 'eth0')), [
    999,
    'failed to allocate for range 0: 10.0.0.2 has been allocated to c, duplicate allocation is not allowed',
  ]);
  t.is(allocate([s], view(['10.0.0.2'], {}, { 'c/eth0': ['10.0.0.2'] }), [], 'c', 'eth1')[0].address, '10.0.0.3');
});

test('freeCount: range size minus gateway minus leases inside the set', (t) => {
  const s = set({ subnet: '10.0.0.0/29' });
  t.is(freeCount(s, []), 5n);
  t.is(freeCount(s, ['10.0.0.2', '10.0.0.3', '10.9.0.1'].map((x) => parseIp(x)!)), 3n);
  t.is(freeCount(set({ subnet: 'fd00::/64' }), []), (1n << 64n) - 2n);
});
