// The dry-run view (TSCNI_DRY_RUN=1): the kernel steps, sysctls and exact nft JSON an ADD or DEL would apply (pure).

import type { BridgeConfig, Owner } from './config.ts';
import { attachmentBatch } from './masq-rules.ts';
import { ownerTag } from '../../lib/cni/owner.ts';
import { containerSysctlList, forwardingSysctlList } from './sysctls.ts';
import { firstHost, splitCidr, type Cidr } from './addresses.ts';

export interface PlanInput {
  readonly command: string;
  readonly cfg: BridgeConfig;
  readonly owner: Owner;
  readonly netns: string;
  /** Addresses when already known (CNI_ARGS IP= or runtimeConfig.ips); otherwise IPAM picks them at ADD time. */
  readonly knownAddrs: readonly string[];
}

const HOST_VETH = 'veth<8 random hex>';

export function planBridge(p: PlanInput): Record<string, unknown> {
  const { cfg, owner } = p;
  const tag = ownerTag(owner);
  if (p.command === 'DEL') {
    return {
      owner: tag,
      steps: [
        { step: 'delete link', netns: p.netns || '(none: skipped)', link: owner.ifname, note: 'its host veth goes with it; if the netns is gone, host veths whose alias is the owner tag are deleted' },
        ...(cfg.ipamType ? [{ step: 'IPAM DEL', plugin: cfg.ipamType }] : []),
        { step: 'nft delete elements', tables: ['inet tscni_bridge', 'bridge tscni_bridge'], where: `comment == ${JSON.stringify(tag)}` },
      ],
    };
  }
  const addrs: Cidr[] = p.knownAddrs.map((a) => splitCidr(a));
  const l3 = { ips: p.knownAddrs.map((address) => ({ address })) };
  // Without known addresses the plan assumes IPv4 for the forwarding sysctl; IPAM decides the real families.
  const gws: Cidr[] = !cfg.isGateway ? [] : addrs.length ? addrs.map((a) => ({ ...a, ip: firstHost(a) })) : [{ ip: '<gateway from IPAM, or network + 1>', prefixLen: 0, v6: false }];
  const steps: Record<string, unknown>[] = [
    { step: 'ensure bridge', name: cfg.bridge, mtu: cfg.mtu || 'kernel default', vlanFiltering: cfg.vlanFiltering, promisc: cfg.promiscMode, up: true, note: 'created if missing; EEXIST from a concurrent ADD is fine' },
    { step: 'create veth pair', container: { netns: p.netns, name: owner.ifname, mac: cfg.mac ?? 'kernel-assigned' }, host: { name: HOST_VETH, alias: tag } },
    { step: 'attach port', link: HOST_VETH, master: cfg.bridge, hairpin: cfg.hairpinMode, isolated: cfg.portIsolation, vlan: cfg.vlan || undefined, vlanTrunk: cfg.vlanTrunk.length ? cfg.vlanTrunk : undefined, removeDefaultVlan: cfg.vlanFiltering && !cfg.preserveDefaultVlan },
  ];
  if (cfg.ipamType) {
    steps.push({ step: 'IPAM ADD', plugin: cfg.ipamType, addresses: p.knownAddrs.length ? p.knownAddrs : 'chosen by IPAM' });
    steps.push({ step: 'configure container interface', link: owner.ifname, addresses: p.knownAddrs.length ? p.knownAddrs : 'from IPAM', noDad: !cfg.enabledad, defaultRoute: cfg.isDefaultGateway });
    if (cfg.isGateway) {
      const addresses = addrs.length ? gws.map((g) => `${g.ip}/${g.prefixLen}`) : [gws[0].ip];
      steps.push({ step: 'add gateway address', link: cfg.bridge, addresses, forceAddress: cfg.forceAddress, note: 'an IPAM gateway takes precedence over network + 1' });
    }
  } else if (!cfg.disableContainerInterface) {
    steps.push({ step: 'set link up', netns: p.netns, link: owner.ifname });
  }
  steps.push({ step: 'wait for operstate up', link: HOST_VETH });
  const nft = attachmentBatch({
    ipMasq: cfg.ipMasq, macspoofchk: cfg.macspoofchk,
    addrs: addrs.length ? addrs : cfg.ipMasq && cfg.ipamType ? [{ ip: '<address from IPAM>', prefixLen: 0, v6: false }] : [],
    hostVeth: HOST_VETH, mac: cfg.mac ?? '<container MAC>', tag,
  });
  return {
    owner: tag,
    steps,
    sysctls: {
      host: [{ key: `net/ipv6/conf/${cfg.bridge}/accept_ra`, value: '0', optional: true }, ...forwardingSysctlList(gws)],
      container: containerSysctlList(owner.ifname, cfg, l3),
    },
    nft: nft.length ? { nftables: [{ metainfo: { json_schema_version: 1 } }, ...nft] } : null,
  };
}
