// bridge bad input: every row gets its code and a message naming field and value, and nothing is created.

import test from 'ava';
import { ipJson, makeNetns, requireRoot } from '../../helpers/netns.ts';
import { leases, makeFixture, NFT } from './fixture.ts';
import { DIST_BIN } from '../../helpers/plugin.ts';

const rows: [string, Record<string, unknown>, string | undefined, number, string][] = [
  ['bridge is a veth', { bridge: 'xveth0' }, undefined, 7, 'invalid bridge "xveth0": a link of that name already exists and is a veth'],
  ['bridge name too long', { bridge: 'abcdefghijklmnop' }, undefined, 7, 'invalid bridge "abcdefghijklmnop": is 16 characters long; a Linux interface name has at most 15'],
  ['mtu 10', { mtu: 10 }, undefined, 7, 'invalid mtu 10: must be an integer 68-65535'],
  ['mtu 70000', { mtu: 70000 }, undefined, 7, 'invalid mtu 70000: must be an integer 68-65535'],
  ['vlan 5000', { vlan: 5000 }, undefined, 7, 'invalid vlan 5000: must be an integer 0-4094'],
  ['vlanTrunk without maxID', { vlanTrunk: [{ minID: 5 }] }, undefined, 7, 'invalid vlanTrunk[0] {"minID":5}: needs both minID and maxID (or id)'],
  ['hairpin + promisc', { hairpinMode: true, promiscMode: true }, undefined, 7, 'invalid hairpinMode true with promiscMode true: the two cannot be set at the same time'],
  ['disableContainerInterface + ipam', { disableContainerInterface: true }, undefined, 7,
    'invalid disableContainerInterface true with ipam.type "host-local": a container interface left down cannot carry IPAM addresses'],
  ['malformed runtimeConfig.mac', { runtimeConfig: { mac: '02:00:00:00:00' } }, undefined, 7, 'invalid runtimeConfig.mac "02:00:00:00:00": must be a MAC address like 02:42:ac:11:00:02'],
  ['multicast args.cni.mac', { args: { cni: { mac: '01:00:5e:00:00:01' } } }, undefined, 7, 'invalid args.cni.mac "01:00:5e:00:00:01": is a multicast MAC address; a container needs a unicast one'],
  ['malformed CNI_ARGS MAC', {}, 'MAC=nonsense', 7, 'invalid CNI_ARGS MAC "nonsense": must be a MAC address like 02:42:ac:11:00:02'],
  ['ipMasqBackend iptables', { ipMasqBackend: 'iptables' }, undefined, 2,
    'unsupported ipMasqBackend "iptables": tscni masquerades with nftables only (table inet tscni_bridge); use "nftables" or leave it out'],
  ['isGateway a string', { isGateway: 'yes' }, undefined, 7, 'invalid isGateway "yes": must be true or false'],
  ['prevResult not a result', { prevResult: 'hello' }, undefined, 7, 'invalid prevResult: must be a JSON object, got "hello"'],
];

test.serial('every bad input row: exact code and message, nothing created (no link, lease or nft table)', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  fx.host.run(['ip', 'link', 'add', 'xveth0', 'type', 'veth', 'peer', 'name', 'xveth1']);
  const hostLinks = () => ipJson<any[]>(fx.host, ['link', 'show']).map((l) => l.ifname).sort();
  const before = hostLinks();
  for (const [what, extra, args, code, msg] of rows) {
    const r = await fx.call('ADD', ctr, 'eth0', fx.conf('1.0.0', extra), { args });
    t.is(r.code, 1, what);
    t.deepEqual(r.json, { cniVersion: '1.0.0', code, msg }, what);
    t.deepEqual(hostLinks(), before, `${what}: no link created`);
    t.deepEqual(ipJson<any[]>(ctr, ['link', 'show']).map((l) => l.ifname), ['lo'], `${what}: nothing in the container`);
    t.deepEqual(leases(fx.dataDir), [], `${what}: no lease`);
    t.is(fx.host.run([NFT, 'list', 'tables']).trim(), '', `${what}: no nft table`);
  }
});

test.serial('an IPAM failure passes its code and stderr through and leaves nothing behind', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  const conf = { ...fx.conf('1.0.0'), ipam: { type: 'host-local', subnet: '10.77.0.0/33', dataDir: fx.dataDir } };
  const r = await fx.call('ADD', ctr, 'eth0', conf);
  t.is(r.json.code, 7, r.stdout);
  t.regex(r.json.msg, /10\.77\.0\.0\/33/);
  t.deepEqual(ipJson<any[]>(fx.host, ['link', 'show', 'type', 'veth']), [], 'the veth made before IPAM is undone');
  t.deepEqual(ipJson<any[]>(ctr, ['link', 'show']).map((l) => l.ifname), ['lo']);
  const missing = await fx.call('ADD', ctr, 'eth0', { ...conf, ipam: { type: 'no-such-ipam' } });
  t.deepEqual(missing.json, { cniVersion: '1.0.0', code: 7, msg: `failed to find plugin "no-such-ipam" in path [${DIST_BIN}]` });
  t.deepEqual(ipJson<any[]>(fx.host, ['link', 'show', 'type', 'veth']), []);
});
