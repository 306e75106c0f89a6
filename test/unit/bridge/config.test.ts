// Unit tests of the pure bridge config parser: defaults, every key, MAC priority, exact errors.

import test from 'ava';
import { parseBridgeConfig, parseMac } from '../../../plugins/bridge/config.ts';
import { CniError } from '../../../lib/cni/errors.ts';

const base = { cniVersion: '1.1.0', name: 'n1', type: 'bridge' };

test('defaults: cni0, everything off, L2 only, frozen', (t) => {
  const cfg = parseBridgeConfig(base);
  t.deepEqual(cfg, {
    network: 'n1', cniVersion: '1.1.0', bridge: 'cni0', isGateway: false, isDefaultGateway: false, forceAddress: false,
    ipMasq: false, ipMasqBackend: 'nftables', mtu: 0, hairpinMode: false, promiscMode: false, vlan: 0, vlanTrunk: [],
    preserveDefaultVlan: false, macspoofchk: false, enabledad: false, disableContainerInterface: false, portIsolation: false,
    ipamType: undefined, dns: undefined, mac: undefined, vlanFiltering: false,
  });
  t.true(Object.isFrozen(cfg));
});

test('every key is read; isDefaultGateway implies isGateway; an empty ipam is L2 only', (t) => {
  const cfg = parseBridgeConfig({
    ...base, bridge: 'br-x', forceAddress: true, ipMasq: true, ipMasqBackend: 'nftables', mtu: 9000,
    hairpinMode: true, vlan: 10, vlanTrunk: [{ id: 20 }, { minID: 30, maxID: 40 }], preserveDefaultVlan: true, macspoofchk: true,
    enabledad: true, portIsolation: true, ipam: { type: 'host-local' }, dns: { nameservers: ['10.0.0.53'], search: ['a.b'] },
  });
  t.like(parseBridgeConfig({ ...base, isDefaultGateway: true }), { isGateway: true, isDefaultGateway: true });
  t.like(cfg, {
    bridge: 'br-x', isGateway: false, isDefaultGateway: false, forceAddress: true, ipMasq: true, mtu: 9000, hairpinMode: true,
    vlan: 10, preserveDefaultVlan: true, macspoofchk: true, enabledad: true, portIsolation: true, ipamType: 'host-local', vlanFiltering: true,
  });
  t.deepEqual(cfg.vlanTrunk, [{ min: 20, max: 20 }, { min: 30, max: 40 }]);
  t.deepEqual(cfg.dns, { nameservers: ['10.0.0.53'], search: ['a.b'] });
  t.is(parseBridgeConfig({ ...base, ipam: {} }).ipamType, undefined);
  t.is(parseBridgeConfig({ ...base, ipam: { type: '' } }).ipamType, undefined);
  t.is(parseBridgeConfig({ ...base, disableContainerInterface: true, ipam: {} }).disableContainerInterface, true);
});

test('MAC priority: runtimeConfig.mac > args.cni.mac > CNI_ARGS MAC, lower-cased', (t) => {
  const args = 'IgnoreUnknown=1;MAC=02:00:00:00:00:0C';
  t.is(parseBridgeConfig({ ...base, runtimeConfig: { mac: '02:00:00:00:00:0A' }, args: { cni: { mac: '02:00:00:00:00:0b' } } }, args).mac, '02:00:00:00:00:0a');
  t.is(parseBridgeConfig({ ...base, args: { cni: { mac: '02:00:00:00:00:0b' } } }, args).mac, '02:00:00:00:00:0b');
  t.is(parseBridgeConfig(base, args).mac, '02:00:00:00:00:0c');
  t.is(parseMac('AA:bb:CC:dd:EE:f0', 'x'), 'aa:bb:cc:dd:ee:f0');
});

const bad: [string, Record<string, unknown>, number, string, string?][] = [
  ['bridge too long', { bridge: 'x'.repeat(16) }, 7, `invalid bridge "${'x'.repeat(16)}": is 16 characters long; a Linux interface name has at most 15`],
  ['bridge with slash', { bridge: 'a/b' }, 7, 'invalid bridge "a/b": contains "/"; an interface name is 1-15 characters of A-Z a-z 0-9 _ . -'],
  ['bridge not ASCII', { bridge: 'advé' }, 7, 'invalid bridge "advé": contains U+00E9; an interface name is 1-15 characters of A-Z a-z 0-9 _ . -'],
  ['bridge with a kernel template', { bridge: 'br%d' }, 7, 'invalid bridge "br%d": contains "%"; an interface name is 1-15 characters of A-Z a-z 0-9 _ . -'],
  ['bridge ..', { bridge: '..' }, 7, 'invalid bridge "..": is not an interface name ("." and ".." are directories)'],
  ['bridge a number', { bridge: 5 }, 7, 'invalid bridge 5: must be a string, got number'],
  ['mtu 0', { mtu: 0 }, 7, 'invalid mtu 0: must be an integer 68-65535'],
  ['mtu 10', { mtu: 10 }, 7, 'invalid mtu 10: must be an integer 68-65535'],
  ['mtu 70000', { mtu: 70000 }, 7, 'invalid mtu 70000: must be an integer 68-65535'],
  ['mtu string', { mtu: '1500' }, 7, 'invalid mtu "1500": must be an integer 68-65535'],
  ['vlan 5000', { vlan: 5000 }, 7, 'invalid vlan 5000: must be an integer 0-4094'],
  ['vlan -1', { vlan: -1 }, 7, 'invalid vlan -1: must be an integer 0-4094'],
  ['trunk id 0', { vlanTrunk: [{ id: 0 }] }, 7, 'invalid vlanTrunk[0].id 0: must be an integer 1-4094'],
  ['trunk min > max', { vlanTrunk: [{ minID: 9, maxID: 3 }] }, 7, 'invalid vlanTrunk[0] {"minID":9,"maxID":3}: minID 9 is greater than maxID 3'],
  ['trunk not a list', { vlanTrunk: 5 }, 7, 'invalid vlanTrunk 5: must be a list of {"id": n} or {"minID": n, "maxID": m}'],
  ['hairpin + promisc', { hairpinMode: true, promiscMode: true }, 7, 'invalid hairpinMode true with promiscMode true: the two cannot be set at the same time'],
  ['disableContainerInterface + ipam', { disableContainerInterface: true, ipam: { type: 'host-local' } }, 7,
    'invalid disableContainerInterface true with ipam.type "host-local": a container interface left down cannot carry IPAM addresses'],
  ['vlan with a gateway', { vlan: 7, isDefaultGateway: true }, 2, 'unsupported vlan 7: with isDefaultGateway true: tscni does not create the per-VLAN gateway interface yet; use vlan without a gateway'],
  ['iptables backend', { ipMasqBackend: 'iptables' }, 2, 'unsupported ipMasqBackend "iptables": tscni masquerades with nftables only (table inet tscni_bridge); use "nftables" or leave it out'],
  ['other backend', { ipMasqBackend: 'pf' }, 2, 'unsupported ipMasqBackend "pf": must be "nftables"'],
  ['backend a number', { ipMasqBackend: 1 }, 7, 'invalid ipMasqBackend 1: must be "nftables"'],
  ['bool as string', { ipMasq: 'true' }, 7, 'invalid ipMasq "true": must be true or false'],
  ['ipam not an object', { ipam: 'host-local' }, 7, 'invalid ipam "host-local": must be an object'],
  ['ipam type with slash', { ipam: { type: '../x' } }, 7, 'invalid ipam.type "../x": must be a plugin name: a file name in CNI_PATH without "/"'],
  ['ipam type a number', { ipam: { type: 7 } }, 7, 'invalid ipam.type 7: must be a plugin name (a string)'],
  ['malformed runtime mac', { runtimeConfig: { mac: '02:00:00:00:00' } }, 7, 'invalid runtimeConfig.mac "02:00:00:00:00": must be a MAC address like 02:42:ac:11:00:02'],
  ['multicast mac', { args: { cni: { mac: '03:00:00:00:00:01' } } }, 7, 'invalid args.cni.mac "03:00:00:00:00:01": is a multicast MAC address; a container needs a unicast one'],
  ['CNI_ARGS mac', {}, 7, 'invalid CNI_ARGS MAC "xyz": must be a MAC address like 02:42:ac:11:00:02', 'MAC=xyz'],
  ['unknown CNI_ARGS key', {}, 4, 'unknown CNI_ARGS key "FOO" (known: IgnoreUnknown, IP, MAC); set IgnoreUnknown=1 to ignore it', 'FOO=1'],
  ['dns not an object', { dns: 'x' }, 7, 'invalid dns: must be an object'],
];

for (const [what, extra, code, msg, args] of bad) {
  test(`bad: ${what}`, (t) => {
    const err = t.throws(() => parseBridgeConfig({ ...base, ...extra }, args), { instanceOf: CniError }) as CniError;
    t.is(err.code, code);
    t.is(err.message, msg);
  });
}
