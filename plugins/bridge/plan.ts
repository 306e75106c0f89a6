// The bridge's plan as data (pure): the ordered steps of an ADD, built once; add.ts applies them one by one and the
// dry-run view (TSCNI_DRY_RUN=1) prints them with the sysctls and the exact nft JSON, so the two cannot drift.

import type { BridgeConfig, Owner } from './config.ts';
import { attachmentBatch, type MasqAddress } from './masq-rules.ts';
import { ownerTag } from '../../lib/cni/owner.ts';
import type { Result } from '../../lib/cni/result.ts';
import type { NftCommand } from '../../lib/nft/apply.ts';
import { containerSysctlList, forwardingSysctlList } from './sysctls.ts';
import { firstHost, splitCidr, type Prefixed } from '../../lib/net/ip.ts';

export interface PlanInput {
  readonly command: string;
  readonly cfg: BridgeConfig;
  readonly owner: Owner;
  readonly netns: string;
  /** Addresses when already known (CNI_ARGS IP= or runtimeConfig.ips); otherwise IPAM picks them at ADD time. */
  readonly knownAddrs: readonly string[];
}

/** What add.ts does for each step, in this order: host links, IPAM, the container side in one pass, host L3, nft. */
export type Op = 'ensure bridge' | 'create veth pair' | 'attach port' | 'IPAM ADD' | 'configure container interface' | 'set link up' | 'add gateway address' | 'wait for operstate up' | 'apply nft';

export interface Step {
  readonly op: Op;
  /** The dry-run line of the step (the nft step is shown as the plan's `nft` transaction instead). */
  readonly view?: Record<string, unknown>;
}

export const HOST_VETH = 'veth<8 random hex>';

/** The nft batch of an attachment: the same function for the plan (placeholders) and for ADD (real values). */
export function nftBatch(cfg: BridgeConfig, addrs: readonly MasqAddress[], hostVeth: string, mac: string, tag: string): NftCommand[] {
  return attachmentBatch({ ipMasq: cfg.ipMasq, macspoofchk: cfg.macspoofchk, addrs, hostVeth, mac, tag });
}

/** The ordered steps of an ADD for this config. `knownAddrs` only fills in the dry-run view. */
export function addSteps(p: Omit<PlanInput, 'command'>): Step[] {
  const { cfg, owner } = p;
  const tag = ownerTag(owner);
  const known = p.knownAddrs.length ? p.knownAddrs : undefined;
  const steps: Step[] = [
    { op: 'ensure bridge', view: { step: 'ensure bridge', name: cfg.bridge, mtu: cfg.mtu || 'kernel default', vlanFiltering: cfg.vlanFiltering, promisc: cfg.promiscMode, up: true, note: 'created if missing; EEXIST from a concurrent ADD is fine' } },
    { op: 'create veth pair', view: { step: 'create veth pair', container: { netns: p.netns, name: owner.ifname, mac: cfg.mac ?? 'kernel-assigned' }, host: { name: HOST_VETH, alias: tag } } },
    { op: 'attach port', view: { step: 'attach port', link: HOST_VETH, master: cfg.bridge, hairpin: cfg.hairpinMode, isolated: cfg.portIsolation, vlan: cfg.vlan || undefined, vlanTrunk: cfg.vlanTrunk.length ? cfg.vlanTrunk : undefined, removeDefaultVlan: cfg.vlanFiltering && !cfg.preserveDefaultVlan } },
  ];
  if (cfg.ipamType) {
    steps.push({ op: 'IPAM ADD', view: { step: 'IPAM ADD', plugin: cfg.ipamType, addresses: known ?? 'chosen by IPAM' } });
    steps.push({ op: 'configure container interface', view: { step: 'configure container interface', link: owner.ifname, addresses: known ?? 'from IPAM', noDad: !cfg.enabledad, defaultRoute: cfg.isDefaultGateway } });
    if (cfg.isGateway) {
      const addresses = known ? plannedGateways(cfg, known).map((g) => `${g.ip}/${g.prefixLen}`) : [GATEWAY_PLACEHOLDER.ip];
      steps.push({ op: 'add gateway address', view: { step: 'add gateway address', link: cfg.bridge, addresses, forceAddress: cfg.forceAddress, note: 'an IPAM gateway takes precedence over network + 1' } });
    }
  } else if (!cfg.disableContainerInterface) {
    steps.push({ op: 'set link up', view: { step: 'set link up', netns: p.netns, link: owner.ifname } });
  }
  steps.push({ op: 'wait for operstate up', view: { step: 'wait for operstate up', link: HOST_VETH } });
  steps.push({ op: 'apply nft' });
  return steps;
}

const GATEWAY_PLACEHOLDER: Prefixed = { ip: '<gateway from IPAM, or network + 1>', prefixLen: 0, v6: false };

/** Gateways the plan shows: network + 1 of each known address (IPAM may name others at ADD time). */
function plannedGateways(cfg: BridgeConfig, known: readonly string[]): Prefixed[] {
  if (!cfg.isGateway) return [];
  // Without known addresses the plan assumes IPv4 for the forwarding sysctl; IPAM decides the real families.
  if (!known.length) return [GATEWAY_PLACEHOLDER];
  return known.map((a) => splitCidr(a)).map((a) => ({ ...a, ip: firstHost(a) }));
}

function planDel(p: PlanInput, tag: string): Record<string, unknown> {
  return {
    owner: tag,
    steps: [
      { step: 'delete link', netns: p.netns || '(none: skipped)', link: p.owner.ifname, note: 'its host veth goes with it; if the netns is gone, host veths whose alias is the owner tag are deleted' },
      ...(p.cfg.ipamType ? [{ step: 'IPAM DEL', plugin: p.cfg.ipamType }] : []),
      { step: 'nft delete elements', tables: ['inet tscni_bridge', 'bridge tscni_bridge'], where: `comment == ${JSON.stringify(tag)}` },
    ],
  };
}

/** The dry-run view of ADD or DEL. */
export function planBridge(p: PlanInput): Record<string, unknown> {
  const { cfg, owner } = p;
  const tag = ownerTag(owner);
  if (p.command === 'DEL') return planDel(p, tag);
  const addrs = p.knownAddrs.map((a) => splitCidr(a));
  const l3: Result = { ips: p.knownAddrs.map((address) => ({ address })) };
  const nft = nftBatch(cfg, addrs.length ? addrs : cfg.ipMasq && cfg.ipamType ? [{ ip: '<address from IPAM>', prefixLen: 0, v6: false }] : [], HOST_VETH, cfg.mac ?? '<container MAC>', tag);
  return {
    owner: tag,
    steps: addSteps(p).flatMap((s) => (s.view ? [s.view] : [])),
    sysctls: {
      host: [{ key: `net/ipv6/conf/${cfg.bridge}/accept_ra`, value: '0', optional: true }, ...forwardingSysctlList(plannedGateways(cfg, p.knownAddrs))],
      container: containerSysctlList(owner.ifname, cfg, l3),
    },
    nft: nft.length ? { nftables: [{ metainfo: { json_schema_version: 1 } }, ...nft] } : null,
  };
}
