// bridge ADD undoes everything it made, the bridge included, whichever later step fails (issue 16 item 2); DEL, CHECK
// and GC touch only links their attachment owns (issue 16 item 8).

import test from 'ava';
import { ipJson, makeNetns, requireRoot, type TestNetns } from '../../helpers/netns.ts';
import { DIST_BIN } from '../../helpers/plugin.ts';
import { leases, makeFixture, nftElements, vethsIn, NFT } from './fixture.ts';

const linksIn = (ns: TestNetns) => ipJson<any[]>(ns, ['link', 'show']).map((l) => l.ifname);

test.serial('a failing IPAM after the bridge and veth were created: code 7, the new bridge and the veth pair are gone', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  const r = await fx.call('ADD', ctr, 'eth0', { ...fx.conf('1.0.0'), ipam: { type: 'no-such-ipam' } });
  t.deepEqual(r.json, { cniVersion: '1.0.0', code: 7, msg: `failed to find plugin "no-such-ipam" in path [${DIST_BIN}]` });
  t.deepEqual(linksIn(fx.host), ['lo'], 'the bridge this ADD created is deleted with the veth');
  t.deepEqual(linksIn(ctr), ['lo']);
});

test.serial('a failing nft transaction (the last step): code 5, lease, veth pair and new bridge all undone', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  // A foreign set of the wrong type under our table's name makes the attachment's batch fail inside nft.
  fx.host.run([NFT, 'add', 'table', 'inet', 'tscni_bridge']);
  fx.host.run([NFT, 'add', 'set', 'inet', 'tscni_bridge', 'masq4', '{ type ipv6_addr; }']);
  const r = await fx.call('ADD', ctr, 'eth0', fx.conf('1.0.0'));
  t.is(r.json.code, 5, r.stdout);
  t.true(r.json.msg.includes('Error: datatype mismatch, expected IPv4 address, expression has type IPv6 address'), r.json.msg);
  t.deepEqual(linksIn(fx.host), ['lo']);
  t.deepEqual(linksIn(ctr), ['lo']);
  t.deepEqual(leases(fx.dataDir), [], 'the lease is released');
  t.deepEqual(nftElements(fx.host), []);
});

test.serial('a bridge that existed before the failing ADD stays', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  fx.host.run(['ip', 'link', 'add', 'tbr0', 'type', 'bridge']);
  const r = await fx.call('ADD', ctr, 'eth0', { ...fx.conf('1.0.0'), ipam: { type: 'no-such-ipam' } });
  t.is(r.json.code, 7);
  t.deepEqual(linksIn(fx.host), ['lo', 'tbr0']);
  t.deepEqual(vethsIn(fx.host), []);
});

test.serial('DEL of an attachment that owns nothing, given another container\'s netns, leaves that container whole and succeeds', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  const conf = fx.conf('1.1.0');
  const add = await fx.call('ADD', ctr, 'eth0', conf, { id: 'owner' });
  t.is(add.code, 0, add.stdout);
  const before = { veths: vethsIn(fx.host), leases: leases(fx.dataDir), nft: nftElements(fx.host) };
  const del = await fx.call('DEL', ctr, 'eth0', conf, { id: 'stranger' });
  t.deepEqual([del.code, del.stdout], [0, '']);
  t.deepEqual(linksIn(ctr), ['lo', 'eth0'], 'the other container keeps its eth0');
  t.deepEqual({ veths: vethsIn(fx.host), leases: leases(fx.dataDir), nft: nftElements(fx.host) }, before);
  const chk = await fx.call('CHECK', ctr, 'eth0', { ...conf, prevResult: add.json }, { id: 'owner' });
  t.deepEqual([chk.code, chk.stdout], [0, ''], 'the owner\'s attachment still checks out');
  const strangerCheck = await fx.call('CHECK', ctr, 'eth0', { ...conf, prevResult: add.json }, { id: 'stranger' });
  t.is(strangerCheck.json.code, 999, 'CHECK by a non-owner fails');
  const gc = await fx.call('GC', undefined, '', { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'owner', ifname: 'eth0' }] });
  t.is(gc.code, 0, gc.stdout);
  t.deepEqual(linksIn(ctr), ['lo', 'eth0']);
  const own = await fx.call('DEL', ctr, 'eth0', conf, { id: 'owner' });
  t.is(own.code, 0, own.stdout);
  t.deepEqual(linksIn(ctr), ['lo']);
  t.deepEqual([vethsIn(fx.host), leases(fx.dataDir), nftElements(fx.host)], [[], [], []]);
});
