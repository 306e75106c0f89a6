// portmap's ledger (pure parts): listed elements with their owners, removal batches, who holds a port.

import test from 'ava';
import { findConflict, keyParts, listedElements, portAllocated, PORT_ALLOCATED } from '../../../plugins/portmap/ledger.ts';
import { entriesOf, removal } from '../../../plugins/portmap/rules.ts';
import { cfgOf, listing, T, v4 } from './fixtures.ts';

test('listings: elements with owner comments, removal batches grouped per map, and conflicts named in Docker\'s words', (t) => {
  const items = listedElements(listing);
  t.deepEqual(items, [
    { name: 'addr4_any', key: { concat: ['tcp', 8080] }, value: '10.88.0.5', comment: 'net c1 eth0' },
    { name: 'port4_any', key: { concat: ['tcp', 8080] }, value: 80, comment: 'net c1 eth0' },
    { name: 'addr4', key: { concat: ['10.0.0.1', 'udp', 53] }, value: '10.88.0.6', comment: 'net c2 eth0' },
    { name: 'all4', key: '10.88.0.5', value: undefined, comment: 'net c1 eth0' },
    { name: 'hostips', key: '::ffff:10.0.0.1', value: undefined },
  ]);
  t.deepEqual(removal(items.filter((i) => i.comment === 'net c1 eth0')), [
    { delete: { element: { ...T, name: 'addr4_any', elem: [{ concat: ['tcp', 8080] }] } } },
    { delete: { element: { ...T, name: 'port4_any', elem: [{ concat: ['tcp', 8080] }] } } },
    { delete: { element: { ...T, name: 'all4', elem: ['10.88.0.5'] } } },
  ]);
  t.deepEqual(keyParts({ concat: ['10.0.0.1', 'udp', 53] }), { hostIP: '10.0.0.1', protocol: 'udp', hostPort: 53 });
  const want = (m: unknown[]) => entriesOf(cfgOf(m), [v4]);
  t.is(findConflict(want([{ hostPort: 8080, containerPort: 1, hostIP: '10.0.0.9' }]), items)?.message, 'port is already allocated: tcp 10.0.0.9:8080 held by container c1');
  t.is(findConflict(want([{ hostPort: 53, containerPort: 1, protocol: 'udp' }]), items)?.message, 'port is already allocated: udp 0.0.0.0:53 held by container c2');
  t.is(findConflict(want([{ hostPort: 53, containerPort: 1, protocol: 'udp', hostIP: '10.0.0.2' }]), items), undefined);
  t.is(findConflict(want([{ hostPort: 53, containerPort: 1 }]), items), undefined, 'another protocol');
});

test('keyParts of both key shapes; portAllocated is code 100 in Docker\'s words', (t) => {
  t.deepEqual(keyParts({ concat: ['udp', 53] }), { protocol: 'udp', hostPort: 53 });
  t.deepEqual(keyParts({ concat: ['fd00::1', 'tcp', 443] }), { hostIP: 'fd00::1', protocol: 'tcp', hostPort: 443 });
  t.is(keyParts('10.0.0.1'), undefined, 'a set element is not a map key');
  const err = portAllocated({ protocol: 'tcp', hostIP: undefined, hostPort: 8080, family: 6 }, 'held by a host process (bind: EADDRINUSE)');
  t.deepEqual([err.code, err.message], [PORT_ALLOCATED, 'port is already allocated: tcp [::]:8080 held by a host process (bind: EADDRINUSE)']);
  t.is(PORT_ALLOCATED, 100);
});

test('listedElements: a listing without elements, and a conditions map\'s elements', (t) => {
  t.deepEqual(listedElements([{ metainfo: {} }, { set: { ...T, name: 'all4', type: 'ipv4_addr' } }]), []);
  t.deepEqual(listedElements([{ map: { ...T, name: 'port6_c0000beef', elem: [[{ elem: { val: { concat: ['sctp', 9] }, comment: 'n c eth0' } }, 99]] } }]), [
    { name: 'port6_c0000beef', key: { concat: ['sctp', 9] }, value: 99, comment: 'n c eth0' },
  ]);
});
