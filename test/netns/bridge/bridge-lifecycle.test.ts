// bridge lifecycle under stress and failure: 50 parallel ADDs on a new bridge, rollback after IPAM, DEL variants,
// CHECK failures, GC by valid-attachments, STATUS 51.

import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeNetns, requireRoot, ipJson, type TestNetns } from '../../helpers/netns.ts';
import { addrsOf, eventually, leases, makeFixture, nftElements, vethsIn, NFT } from './fixture.ts';

test.serial('50 parallel ADDs on a bridge that does not exist yet, then 50 DELs: all succeed, unique addresses, nothing left', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const conf = fx.conf('1.1.0');
  const ctrs: TestNetns[] = Array.from({ length: 50 }, () => makeNetns(t, 'p'));
  t.deepEqual(ipJson<any[]>(fx.host, ['link', 'show']).map((l) => l.ifname), ['lo']);
  const adds = await Promise.all(ctrs.map((c, i) => fx.call('ADD', c, 'eth0', conf, { id: `c${i}` })));
  for (const [i, a] of adds.entries()) t.is(a.code, 0, `ADD c${i}: ${a.stdout}${a.stderr}`);
  const addrs = adds.map((a) => a.json.ips[0].address);
  t.is(new Set(addrs).size, 50, 'every address unique');
  t.deepEqual(ctrs.map((c) => addrsOf(c, 'eth0')[0]), addrs, 'the kernel has exactly the addresses of the results');
  t.is(vethsIn(fx.host).length, 50);
  t.is(nftElements(fx.host).filter((e) => e.set === 'masq4').length, 50);
  t.deepEqual(addrsOf(fx.host, 'tbr0'), ['10.77.0.1/24'], 'one gateway address despite 50 racing ADDs');
  const chain = JSON.parse(fx.host.run([NFT, '-j', 'list', 'chain', 'inet', 'tscni_bridge', 'postrouting'])).nftables.filter((o: any) => o.rule);
  t.is(chain.length, 8, 'the rule list stays constant: 50 attachments are 100 set elements, not 50 rules');
  t.is(leases(fx.dataDir).length, 50);
  const dels = await Promise.all(ctrs.map((c, i) => fx.call('DEL', c, 'eth0', { ...conf, prevResult: adds[i].json }, { id: `c${i}` })));
  for (const [i, d] of dels.entries()) t.is(d.code, 0, `DEL c${i}: ${d.stdout}`);
  t.deepEqual(vethsIn(fx.host), []);
  t.deepEqual(nftElements(fx.host), []);
  t.deepEqual(leases(fx.dataDir), []);
});

const nothingButBridge = (t: any, fx: ReturnType<typeof makeFixture>) => {
  t.deepEqual(vethsIn(fx.host), [], 'no veth');
  t.deepEqual(leases(fx.dataDir), [], 'no lease');
  t.deepEqual(nftElements(fx.host), [], 'no nft element');
};

test.serial('a failure after IPAM (a foreign address on the bridge) rolls everything back; so does an existing CNI_IFNAME', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  fx.host.run(['ip', 'link', 'add', 'tbr0', 'type', 'bridge']);
  fx.host.run(['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'tbr0']);
  const conf = fx.conf('1.0.0');
  const add = await fx.call('ADD', ctr, 'eth0', conf);
  t.deepEqual(add.json, {
    cniVersion: '1.0.0', code: 999,
    msg: 'bridge tbr0 already has an IP address (192.0.2.1/24) different from 10.77.0.1/24; set forceAddress to replace it',
  });
  nothingButBridge(t, fx);
  t.deepEqual(ipJson<any[]>(ctr, ['link', 'show']).map((l) => l.ifname), ['lo']);
  const forced = await fx.call('ADD', ctr, 'eth0', { ...conf, forceAddress: true });
  t.is(forced.code, 0, forced.stdout);
  t.deepEqual(addrsOf(fx.host, 'tbr0'), ['10.77.0.1/24']);
  t.is((await fx.call('DEL', ctr, 'eth0', conf)).code, 0);

  const c2 = makeNetns(t, 'c');
  c2.run(['ip', 'link', 'add', 'eth0', 'type', 'bridge']);
  const dup = await fx.call('ADD', c2, 'eth0', conf, { id: 'c2' });
  t.deepEqual(dup.json, { cniVersion: '1.0.0', code: 999, msg: `container interface "eth0" already exists in ${c2.path}` });
  nothingButBridge(t, fx);
  t.is(ipJson<any[]>(c2, ['-d', 'link', 'show', 'eth0'])[0].linkinfo.info_kind, 'bridge', 'the existing eth0 is untouched');
});

test.serial('DEL: twice, without prevResult, with the netns deleted first, with the netns unmounted but alive, with CNI_NETNS empty', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const conf = fx.conf('1.0.0');
  // netns deleted first: the kernel removes the veth pair with the netns; DEL still releases lease and elements.
  const c1 = makeNetns(t, 'c');
  t.is((await fx.call('ADD', c1, 'eth0', conf, { id: 'c1' })).code, 0);
  c1.remove();
  const d1 = await fx.call('DEL', c1, 'eth0', conf, { id: 'c1' });
  t.is(d1.code, 0, d1.stdout);
  t.true(await eventually(() => vethsIn(fx.host).length === 0), 'veth gone with the netns');
  t.deepEqual(leases(fx.dataDir), []);
  t.deepEqual(nftElements(fx.host), []);
  t.is((await fx.call('DEL', c1, 'eth0', conf, { id: 'c1' })).code, 0, 'DEL twice');

  // netns unmounted while a process keeps it alive: the veth survives and is found by its owner tag.
  const c2 = makeNetns(t, 'c');
  t.is((await fx.call('ADD', c2, 'eth0', conf, { id: 'c2' })).code, 0);
  const holder = spawn('ip', ['netns', 'exec', c2.name, 'sleep', '20'], { stdio: 'ignore' });
  t.teardown(() => holder.kill());
  await new Promise((r) => setTimeout(r, 300));
  c2.remove();
  t.is(vethsIn(fx.host).length, 1, 'the veth outlives the netns mount');
  const d2 = await fx.call('DEL', c2, 'eth0', conf, { id: 'c2' });
  t.is(d2.code, 0, d2.stdout);
  t.deepEqual(vethsIn(fx.host), [], 'host veth deleted by its owner tag');
  holder.kill();

  // CNI_NETNS empty (nerdctl/ctr do this): lease and elements still go.
  const c3 = makeNetns(t, 'c');
  t.is((await fx.call('ADD', c3, 'eth0', conf, { id: 'c3' })).code, 0);
  const d3 = await fx.call('DEL', undefined, 'eth0', conf, { id: 'c3' });
  t.is(d3.code, 0, d3.stdout);
  t.deepEqual(vethsIn(fx.host), []);
  nothingButBridge(t, fx);
});

test.serial('CHECK fails precisely when an address, a route, a masquerade element, the container iface or the MAC changes', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  const conf = fx.conf('1.1.0', { isDefaultGateway: true });
  const add = await fx.call('ADD', ctr, 'eth0', conf);
  t.is(add.code, 0);
  const check = async () => (await fx.call('CHECK', ctr, 'eth0', { ...conf, prevResult: add.json })).json;
  t.is(await check(), undefined, 'CHECK passes on an intact attachment');
  ctr.run(['ip', 'route', 'del', 'default']);
  t.deepEqual(await check(), { cniVersion: '1.1.0', code: 999, msg: 'route 0.0.0.0/0 via 10.77.0.1 is missing in the container' });
  ctr.run(['ip', 'route', 'add', 'default', 'via', '10.77.0.1']);
  fx.host.run([NFT, 'delete', 'element', 'inet', 'tscni_bridge', 'masq4', '{ 10.77.0.2 }']);
  t.deepEqual(await check(), { cniVersion: '1.1.0', code: 999, msg: 'masquerade element for 10.77.0.2 is missing from set inet tscni_bridge masq4' });
  fx.host.run([NFT, 'add', 'element', 'inet', 'tscni_bridge', 'masq4', '{ 10.77.0.2 comment "tscni tnet c1/eth0" }']);
  t.is(await check(), undefined);
  ctr.run(['ip', 'addr', 'del', '10.77.0.2/24', 'dev', 'eth0']);
  t.deepEqual(await check(), { cniVersion: '1.1.0', code: 999, msg: 'address 10.77.0.2/24 is missing from eth0' });
  ctr.run(['ip', 'link', 'set', 'eth0', 'address', '02:00:00:00:00:42']);
  t.deepEqual(await check(), { cniVersion: '1.1.0', code: 999, msg: `container interface eth0 has MAC 02:00:00:00:00:42, prevResult says ${add.json.interfaces[2].mac}` });
  ctr.run(['ip', 'link', 'del', 'eth0']);
  t.deepEqual(await check(), { cniVersion: '1.1.0', code: 999, msg: `container interface eth0 is missing from ${ctr.path}` });
  const none = await fx.call('CHECK', ctr, 'eth0', conf);
  t.deepEqual(none.json, { cniVersion: '1.1.0', code: 7, msg: 'invalid prevResult: CHECK needs the result of the ADD (prevResult is missing)' });
  t.is((await fx.call('DEL', ctr, 'eth0', conf)).code, 0);
  nothingButBridge(t, fx);
});

test.serial('GC removes leases, nft elements and host veths of attachments not in cni.dev/valid-attachments', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const conf = fx.conf('1.1.0');
  const ctrs = [makeNetns(t, 'c'), makeNetns(t, 'c'), makeNetns(t, 'c')];
  for (const [i, c] of ctrs.entries()) t.is((await fx.call('ADD', c, 'eth0', conf, { id: `c${i}` })).code, 0);
  const other = makeNetns(t, 'c');
  const otherConf = { ...fx.conf('1.1.0'), name: 'othernet', bridge: 'tbr9', ipam: { type: 'host-local', subnet: '10.88.0.0/24', dataDir: fx.dataDir } };
  t.is((await fx.call('ADD', other, 'eth0', otherConf, { id: 'c9' })).code, 0, 'another network (own bridge and subnet)');
  const gc = await fx.call('GC', undefined, '', { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'c0', ifname: 'eth0' }] });
  t.is(gc.code, 0, gc.stdout + gc.stderr);
  t.deepEqual(nftElements(fx.host).filter((e) => e.set === 'masq4').map((e) => e.comment).sort(), ['tscni othernet c9/eth0', 'tscni tnet c0/eth0']);
  t.deepEqual(leases(fx.dataDir), ['10.77.0.2']);
  t.deepEqual(leases(fx.dataDir, 'othernet').length, 1, 'the other network is untouched');
  t.is(vethsIn(fx.host).length, 2, 'c1 and c2 host veths gone; c0 and othernet c9 stay');
  t.deepEqual(ipJson<any[]>(ctrs[1], ['link', 'show', 'type', 'veth']), [], 'the pair went with the host veth');
  t.is((await fx.call('DEL', ctrs[0], 'eth0', conf, { id: 'c0' })).code, 0);
  t.is((await fx.call('DEL', other, 'eth0', otherConf, { id: 'c9' })).code, 0);
  nothingButBridge(t, fx);
});

test.serial('STATUS: 0 when ready, 51 after a foreign `nft flush ruleset`, 51 for an iptables-nft FORWARD policy drop', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  const conf = fx.conf('1.1.0');
  const status = async () => (await fx.call('STATUS', undefined, '', conf)).json;
  t.is(await status(), undefined, 'no attachment yet: ready');
  t.is((await fx.call('ADD', ctr, 'eth0', conf)).code, 0);
  t.is(await status(), undefined);
  fx.host.run(['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
  t.deepEqual(await status(), {
    cniVersion: '1.1.0', code: 51,
    msg: 'net.ipv4.ip_forward is 0: containers on bridge tbr0 cannot reach beyond the host (it was switched off after ADD)',
  });
  fx.host.run(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  t.is(await status(), undefined);
  fx.host.run([NFT, 'flush', 'ruleset']);
  t.deepEqual(await status(), {
    cniVersion: '1.1.0', code: 51,
    msg: 'nftables chain inet tscni_bridge postrouting is missing (flushed by someone else?) while 1 container(s) of network tnet are attached to tbr0: their traffic leaves unmasqueraded; re-ADD them to restore it',
  });
  fx.host.run([NFT, '-f', '-'], 'table ip filter {\n chain FORWARD { type filter hook forward priority 0; policy drop; }\n}\n');
  t.deepEqual(await status(), {
    cniVersion: '1.1.0', code: 51,
    msg: 'the iptables FORWARD chain (nft table ip filter) has policy DROP and no rule accepts bridge tbr0: containers cannot reach beyond the host (add e.g. `iptables -I FORWARD -i tbr0 -j ACCEPT` and the reverse with -o)',
  });
  fx.host.run([NFT, 'add', 'rule', 'ip', 'filter', 'FORWARD', 'iifname', 'tbr0', 'accept']);
  t.is((await status())?.code, 51, 'still 51: the masquerade chain is still missing');
  t.is((await fx.call('DEL', ctr, 'eth0', conf)).code, 0);
  t.is(await status(), undefined, 'nothing attached: ready again');
  const bad = await fx.call('STATUS', undefined, '', { ...conf, ipam: { type: 'host-local', subnet: 'nonsense', dataDir: fx.dataDir } });
  t.is(bad.json.code, 7, `IPAM STATUS answer is forwarded: ${bad.stdout}`);
});

test.serial('IPAM by exec (a plugin that is not our host-local): env and stdin passed, stderr passed through, IPAM DEL after a later failure', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const dir = mkdtempSync(join(tmpdir(), 'tscni-fake-ipam-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'calls.log');
  writeFileSync(join(dir, 'fake-ipam'), [
    '#!/bin/sh',
    `stdin=$(cat); echo "$CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME $(echo "$stdin" | grep -c '"name":"tnet"')" >> ${log}`,
    'echo "fake-ipam was here" >&2',
    `[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","ips":[{"address":"10.79.0.5/24","gateway":"10.79.0.1"}],"dns":{"nameservers":["10.79.0.53"]}}'`,
    'exit 0',
  ].join('\n'), { mode: 0o755 });
  const conf = { ...fx.conf('1.0.0'), ipam: { type: 'fake-ipam' } };
  const ctr = makeNetns(t, 'c');
  const add = await fx.call('ADD', ctr, 'eth0', conf, { path: `${dir}:${fx.dataDir}` });
  t.is(add.code, 0, add.stdout);
  t.deepEqual(add.json.ips, [{ interface: 2, address: '10.79.0.5/24', gateway: '10.79.0.1' }]);
  t.deepEqual(add.json.dns, { nameservers: ['10.79.0.53'] }, 'IPAM dns kept when the config has none');
  t.regex(add.stderr, /fake-ipam was here/);
  t.deepEqual(addrsOf(ctr, 'eth0'), ['10.79.0.5/24']);
  t.is((await fx.call('DEL', ctr, 'eth0', conf, { path: dir })).code, 0);
  fx.host.run(['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'tbr0']);
  fx.host.run(['ip', 'addr', 'del', '10.79.0.1/24', 'dev', 'tbr0']);
  const c2 = makeNetns(t, 'c');
  const bad = await fx.call('ADD', c2, 'eth0', conf, { id: 'c2', path: dir });
  t.is(bad.json.code, 999, bad.stdout);
  t.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['ADD c1 eth0 1', 'DEL c1 eth0 1', 'ADD c2 eth0 1', 'DEL c2 eth0 1'], 'the failed ADD released its lease');
  t.deepEqual(vethsIn(fx.host), []);
  t.deepEqual(nftElements(fx.host), []);
});

test.serial('DEL forgives a config that no longer validates: lease and elements still released', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  const conf = fx.conf('1.0.0');
  t.is((await fx.call('ADD', ctr, 'eth0', conf)).code, 0);
  const del = await fx.call('DEL', ctr, 'eth0', { ...conf, mtu: 10 });
  t.is(del.code, 0, del.stdout);
  nothingButBridge(t, fx);
});

test.serial('a stale element left by a crashed owner under the same address is taken over, so its late DEL cannot remove ours', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const conf = fx.conf('1.0.0');
  const ctr = makeNetns(t, 'c');
  fx.host.run([NFT, 'add', 'table', 'inet', 'tscni_bridge']);
  fx.host.run([NFT, 'add', 'set', 'inet', 'tscni_bridge', 'masq4', '{ type ipv4_addr; }']);
  fx.host.run([NFT, 'add', 'element', 'inet', 'tscni_bridge', 'masq4', '{ 10.77.0.2 comment "tscni tnet crashed/eth0" }']);
  const add = await fx.call('ADD', ctr, 'eth0', conf);
  t.is(add.code, 0, add.stdout);
  t.deepEqual(nftElements(fx.host).filter((e) => e.set === 'masq4'), [{ family: 'inet', set: 'masq4', val: '10.77.0.2', comment: 'tscni tnet c1/eth0' }]);
  t.is((await fx.call('DEL', undefined, 'eth0', conf, { id: 'crashed' })).code, 0);
  t.is(nftElements(fx.host).filter((e) => e.set === 'masq4').length, 1, "the crashed owner's DEL leaves ours alone");
  t.is((await fx.call('DEL', ctr, 'eth0', conf)).code, 0);
  nothingButBridge(t, fx);
});
