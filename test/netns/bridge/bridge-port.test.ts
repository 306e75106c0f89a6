// bridge against the real kernel, per-port settings: MAC priority, hairpin, isolation, promisc, mtu, macspoofchk,
// VLANs, and IPv6 DAD when enabled.

import test from 'ava';
import { ipJson, makeNetns, requireRoot } from '../../helpers/netns.ts';
import { leases, makeFixture, nftElements } from './fixture.ts';

const linkOf = (ns: ReturnType<typeof makeNetns>, dev: string) => ipJson<any[]>(ns, ['-d', 'link', 'show', 'dev', dev])[0];

test.serial('MAC priority runtimeConfig > args.cni > CNI_ARGS, hairpin, isolation, promisc, mtu, macspoofchk', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const cases: [Record<string, unknown>, string | undefined, string][] = [
    [{ runtimeConfig: { mac: '02:00:00:00:00:0a' }, args: { cni: { mac: '02:00:00:00:00:0b' } } }, 'MAC=02:00:00:00:00:0c', '02:00:00:00:00:0a'],
    [{ args: { cni: { mac: '02:00:00:00:00:0b' } } }, 'MAC=02:00:00:00:00:0c', '02:00:00:00:00:0b'],
    [{}, 'IgnoreUnknown=1;MAC=02:00:00:00:00:0c', '02:00:00:00:00:0c'],
  ];
  for (const [extra, args, mac] of cases) {
    const ctr = makeNetns(t, 'c');
    const conf = fx.conf('1.0.0', extra);
    const add = await fx.call('ADD', ctr, 'eth0', conf, { args });
    t.is(add.code, 0, add.stdout);
    t.is(linkOf(ctr, 'eth0').address, mac);
    t.is(add.json.interfaces[2].mac, mac);
    t.is((await fx.call('DEL', ctr, 'eth0', conf, { args })).code, 0);
  }
  fx.host.run(['ip', 'link', 'del', 'tbr0']); // its 10.77.0.1/24 would shadow the gateway on tbr2
  const ctr = makeNetns(t, 'c');
  const conf = fx.conf('1.0.0', { bridge: 'tbr2', hairpinMode: true, portIsolation: true, mtu: 1400, macspoofchk: true, ipMasq: false });
  const add = await fx.call('ADD', ctr, 'eth0', conf);
  t.is(add.code, 0, add.stdout);
  const port = linkOf(fx.host, add.json.interfaces[1].name);
  t.true(port.linkinfo.info_slave_data.hairpin);
  t.true(port.linkinfo.info_slave_data.isolated);
  t.is(port.mtu, 1400);
  t.is(linkOf(ctr, 'eth0').mtu, 1400);
  t.is(linkOf(fx.host, 'tbr2').mtu, 1400);
  const chk = (await fx.call('CHECK', ctr, 'eth0', { ...conf, prevResult: add.json }));
  t.is(chk.code, 0, `CHECK reads hairpin and isolated back: ${chk.stdout}`);
  fx.host.run(['ip', 'link', 'set', add.json.interfaces[1].name, 'type', 'bridge_slave', 'hairpin', 'off']);
  t.deepEqual((await fx.call('CHECK', ctr, 'eth0', { ...conf, prevResult: add.json })).json, {
    cniVersion: '1.0.0', code: 999, msg: `host veth ${add.json.interfaces[1].name} hairpin mode is false, config says true`,
  });
  fx.host.run(['ip', 'link', 'set', add.json.interfaces[1].name, 'type', 'bridge_slave', 'hairpin', 'on']);
  const mac = add.json.interfaces[2].mac;
  t.deepEqual(nftElements(fx.host).map((e) => [e.family, e.set, e.val]), [
    ['bridge', 'spoofchk_ports', add.json.interfaces[1].name],
    ['bridge', 'spoofchk_allowed', { concat: [add.json.interfaces[1].name, mac] }],
  ]);
  t.is(ctr.try(['ping', '-c1', '-W2', '10.77.0.1']).status, 0, 'own MAC passes the spoof check');
  ctr.run(['ip', 'link', 'set', 'eth0', 'address', '02:00:00:00:00:99']);
  ctr.run(['ip', 'neigh', 'flush', 'all']);
  t.not(ctr.try(['ping', '-c1', '-W1', '10.77.0.1']).status, 0, 'a spoofed source MAC is dropped');
  t.is((await fx.call('DEL', ctr, 'eth0', conf)).code, 0);
  t.deepEqual(nftElements(fx.host), []);
  fx.host.run(['ip', 'link', 'del', 'tbr2']);
  const pc = makeNetns(t, 'c');
  const promisc = fx.conf('1.0.0', { bridge: 'tbr3', promiscMode: true });
  t.is((await fx.call('ADD', pc, 'eth0', promisc)).code, 0);
  t.true(linkOf(fx.host, 'tbr3').promiscuity > 0);
  t.is((await fx.call('DEL', pc, 'eth0', promisc)).code, 0);
});

test.serial('VLAN: PVID untagged + default VLAN 1 removed + trunk tagged, or code 2 where the kernel lacks VLAN filtering', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  const conf = fx.conf('1.0.0', { bridge: 'tbr4', vlan: 100, vlanTrunk: [{ id: 200 }, { minID: 300, maxID: 302 }], isGateway: false, ipMasq: false });
  const kernelHasVlanFiltering = fx.host.try(['ip', 'link', 'add', 'probe0', 'type', 'bridge', 'vlan_filtering', '1']).status === 0;
  fx.host.try(['ip', 'link', 'del', 'probe0']);
  const add = await fx.call('ADD', ctr, 'eth0', conf);
  if (!kernelHasVlanFiltering) {
    t.deepEqual(add.json, {
      cniVersion: '1.0.0', code: 2,
      msg: 'unsupported vlan 100: this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING is off, vlan_filtering answers EOPNOTSUPP)',
    });
    t.deepEqual(ipJson<any[]>(fx.host, ['link', 'show']).map((l) => l.ifname), ['lo'], 'nothing created');
    t.deepEqual(leases(fx.dataDir), []);
    return;
  }
  t.is(add.code, 0, add.stdout);
  t.is(linkOf(fx.host, 'tbr4').linkinfo.info_data.vlan_filtering, 1);
  const vlans = JSON.parse(fx.host.run(['bridge', '-j', 'vlan', 'show', 'dev', add.json.interfaces[1].name]));
  // One row per VLAN: iproute2 shows a run of like VLANs as one range on newer kernels (vlan 300, vlanEnd 302) and
  // as one row each on Debian 12's 6.1 (the vm tier's).
  const list = vlans[0].vlans.flatMap((x: any) => Array.from({ length: (x.vlanEnd ?? x.vlan) - x.vlan + 1 }, (_, i) => [x.vlan + i, (x.flags ?? []).join(',')]));
  t.deepEqual(list, [[100, 'PVID,Egress Untagged'], [200, ''], [300, ''], [301, ''], [302, '']]);
  t.is((await fx.call('DEL', ctr, 'eth0', conf)).code, 0);
});

test.serial('enabledad: IPv6 DAD runs (accept_dad=1, enhanced_dad=1) and ADD returns once the address is no longer tentative', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t, { subnet: 'fd00:79::/64' });
  const ctr = makeNetns(t, 'c');
  const conf = fx.conf('1.0.0', { enabledad: true, ipMasq: false });
  const add = await fx.call('ADD', ctr, 'eth0', conf);
  t.is(add.code, 0, add.stdout);
  t.is(ctr.run(['cat', '/proc/sys/net/ipv6/conf/eth0/accept_dad']).trim(), '1');
  t.is(ctr.run(['cat', '/proc/sys/net/ipv6/conf/eth0/enhanced_dad']).trim(), '1');
  const a = ipJson<any[]>(ctr, ['-6', 'addr', 'show', 'dev', 'eth0'])[0].addr_info.find((x: any) => x.local === 'fd00:79::2');
  t.truthy(a);
  t.falsy(a.tentative, 'DAD finished before the result');
  t.falsy(a.nodad, 'the address went through DAD');
  t.is((await fx.call('DEL', ctr, 'eth0', conf)).code, 0);
});
