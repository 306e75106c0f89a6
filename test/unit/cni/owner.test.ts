// Owner tags of bridge (`tscni <net> <id>/<ifname>`) and portmap (`<net> <id> <ifname>`): readable when short, exact
// hashes when long, always at most 127 bytes.

import test from 'ava';
import { attachmentKey, networkTag, netToken, ownerTag, portmapTag, portmapTagBelongsTo, portmapTagContainer } from '../../../lib/cni/owner.ts';

test('short names stay readable', (t) => {
  t.is(ownerTag({ network: 'n1', containerId: 'abc', ifname: 'eth0' }), 'tscni n1 abc/eth0');
  t.is(networkTag('n1'), 'tscni n1 ');
});

test('a long container id is hashed, deterministically, and the tag fits an nft comment', (t) => {
  const id = 'f'.repeat(200);
  const tag = ownerTag({ network: 'n1', containerId: id, ifname: 'eth0' });
  t.regex(tag, /^tscni n1 #[0-9a-f]{32}$/);
  t.is(tag, ownerTag({ network: 'n1', containerId: id, ifname: 'eth0' }));
  t.not(tag, ownerTag({ network: 'n1', containerId: id, ifname: 'eth1' }));
  t.is(attachmentKey(id, 'eth0', 'n1'), tag.slice('tscni n1 '.length));
});

test('a 64-hex container id (docker, containerd) stays literal', (t) => {
  const id = 'a'.repeat(64);
  t.is(ownerTag({ network: 'podman', containerId: id, ifname: 'eth0' }), `tscni podman ${id}/eth0`);
});

test('a long network name is hashed in the network tag and every tag stays under 128 bytes', (t) => {
  const net = 'n'.repeat(100);
  t.regex(networkTag(net), /^tscni #[0-9a-f]{24} $/);
  for (const id of ['c', 'x'.repeat(64), 'y'.repeat(300)]) t.true(Buffer.byteLength(ownerTag({ network: net, containerId: id, ifname: 'eth0' })) <= 127);
});

test('portmap tags: plain when short, hashed but still per network when long', (t) => {
  t.is(portmapTag('net', 'abc', 'eth0'), 'net abc eth0');
  const long = portmapTag('net', 'c'.repeat(200), 'eth0');
  t.regex(long, /^net #[0-9a-f]{40}$/);
  t.true(portmapTagBelongsTo(long, 'net'));
  t.false(portmapTagBelongsTo(long, 'net2'));
  t.not(long, portmapTag('net', 'c'.repeat(200), 'eth1'));
  t.regex(netToken('n'.repeat(49)), /^#[0-9a-f]{24}$/);
  t.true(portmapTag('n'.repeat(100), 'x'.repeat(64), 'eth0').length <= 127);
  t.is(portmapTagContainer('net abc eth0'), 'abc');
});
