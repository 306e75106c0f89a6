// Unit tests of the pure dry-run plan: steps per config, sysctls, and the nft transaction it would apply.

import test from 'ava';
import { parseBridgeConfig } from '../../../plugins/bridge/config.ts';
import { addSteps, planBridge } from '../../../plugins/bridge/plan.ts';

const owner = { network: 'n', containerId: 'c1', ifname: 'eth0' };
const cfg = (extra: Record<string, unknown>) => parseBridgeConfig({ cniVersion: '1.0.0', name: 'n', type: 'bridge', ...extra });

test('L2-only ADD: no IPAM step, container link up, no nft, only the container sysctls it needs', (t) => {
  const p = planBridge({ command: 'ADD', cfg: cfg({ bridge: 'b0', ipMasq: true }), owner, netns: '/run/netns/x', knownAddrs: [] }) as any;
  t.deepEqual(p.steps.map((s: any) => s.step), ['ensure bridge', 'create veth pair', 'attach port', 'set link up', 'wait for operstate up']);
  t.is(p.nft, null);
  t.deepEqual(p.sysctls, {
    host: [{ key: 'net/ipv6/conf/b0/accept_ra', value: '0', optional: true }],
    container: [{ key: 'net/ipv4/conf/eth0/arp_notify', value: '1', optional: false }, { key: 'net/ipv6/conf/eth0/accept_dad', value: '0', optional: true }],
  });
});

test('dual-stack gateway ADD with known addresses: gateways, both forwarding sysctls, IPv6 sysctls, masq elements', (t) => {
  const p = planBridge({ command: 'ADD', cfg: cfg({ isGateway: true, ipMasq: true, ipam: { type: 'host-local' } }), owner, netns: '/x', knownAddrs: ['10.9.0.5/24', 'fd09::5/64'] }) as any;
  t.deepEqual(p.steps.find((s: any) => s.step === 'add gateway address').addresses, ['10.9.0.1/24', 'fd09::1/64']);
  t.deepEqual(p.sysctls.host.map((s: any) => s.key), ['net/ipv6/conf/cni0/accept_ra', 'net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding']);
  t.deepEqual(p.sysctls.container.map((s: any) => `${s.key}=${s.value}`), [
    'net/ipv4/conf/eth0/arp_notify=1', 'net/ipv6/conf/lo/disable_ipv6=0', 'net/ipv6/conf/eth0/disable_ipv6=0',
    'net/ipv6/conf/eth0/keep_addr_on_down=1', 'net/ipv6/conf/eth0/accept_dad=0',
  ]);
  const elems = p.nft.nftables.filter((c: any) => c.add?.element).map((c: any) => [c.add.element.name, c.add.element.elem[0].elem.val]);
  t.deepEqual(elems, [
    ['masq4', '10.9.0.5'], ['local4', { concat: ['10.9.0.5', { prefix: { addr: '10.9.0.0', len: 24 } }] }],
    ['masq6', 'fd09::5'], ['local6', { concat: ['fd09::5', { prefix: { addr: 'fd09::', len: 64 } }] }],
  ]);
});

test('DEL plan: delete by owner tag', (t) => {
  const p = planBridge({ command: 'DEL', cfg: cfg({ ipam: { type: 'host-local' } }), owner, netns: '', knownAddrs: [] }) as any;
  t.deepEqual(p, {
    owner: 'tscni n c1/eth0',
    steps: [
      { step: 'delete link', netns: '(none: skipped)', link: 'eth0', note: 'its host veth goes with it; if the netns is gone, host veths whose alias is the owner tag are deleted' },
      { step: 'IPAM DEL', plugin: 'host-local' },
      { step: 'nft delete elements', tables: ['inet tscni_bridge', 'bridge tscni_bridge'], where: 'comment == "tscni n c1/eth0"' },
    ],
  });
});

test('addSteps: the one list ADD applies, in order; the dry-run steps are its views, nft shown apart', (t) => {
  const ops = (extra: Record<string, unknown>) => addSteps({ cfg: cfg(extra), owner, netns: '/x', knownAddrs: [] }).map((s) => s.op);
  t.deepEqual(ops({ isGateway: true, ipam: { type: 'host-local' } }), [
    'ensure bridge', 'create veth pair', 'attach port', 'IPAM ADD', 'configure container interface', 'add gateway address', 'wait for operstate up', 'apply nft',
  ]);
  t.deepEqual(ops({}), ['ensure bridge', 'create veth pair', 'attach port', 'set link up', 'wait for operstate up', 'apply nft']);
  t.deepEqual(ops({ disableContainerInterface: true }), ['ensure bridge', 'create veth pair', 'attach port', 'wait for operstate up', 'apply nft']);
  const input = { command: 'ADD', cfg: cfg({ ipam: { type: 'host-local' } }), owner, netns: '/x', knownAddrs: [] };
  t.deepEqual((planBridge(input) as any).steps, addSteps(input).filter((s) => s.view).map((s) => s.view));
  t.deepEqual(addSteps(input).filter((s) => !s.view).map((s) => s.op), ['apply nft']);
});
