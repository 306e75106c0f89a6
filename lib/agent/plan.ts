// The kernel state the agent wants, as data (pure): routes per remote pod CIDR, and for vxlan the device, its
// addresses, FDB and neighbour entries (flannel's design), plus the cluster CIDRs exempt from masquerade.

import { createHash } from 'node:crypto';
import type { AgentConfig, Peer } from './config.ts';

export const VXLAN_DEVICE = 'tscni.vxlan';
/** rtm_protocol of every route the agent owns (`ip route show proto 126`); unused by iproute2 and the kernel. */
export const RTPROT_TSCNI = 126;

export interface WantedRoute { readonly dst: string; readonly dstLen: number; readonly gw: string; readonly onlink: boolean; readonly peer: string }
export interface WantedNeigh { readonly ip: string; readonly mac: string; readonly peer: string }
export interface WantedFdb { readonly mac: string; readonly dst: string; readonly peer: string }
export interface WantedVxlan { readonly vni: number; readonly port: number; readonly local: string; readonly mtu: number; readonly mac: string; readonly addrs: readonly { ip: string; prefixLen: number }[] }
export interface Plan {
  readonly routes: readonly WantedRoute[];
  readonly vxlan?: WantedVxlan;
  readonly neigh: readonly WantedNeigh[];
  readonly fdb: readonly WantedFdb[];
  readonly clusterCidrs: readonly string[];
}

/** Facts read from this node's kernel that the plan depends on (vxlan only): the underlay link's MTU. */
export interface Underlay { readonly name: string; readonly index: number; readonly mtu: number }

/** A node's VXLAN MAC: its `vxlanMAC`, else derived from its name (locally administered, unicast), so every node agrees. */
export function vxlanMac(peer: Peer): string {
  if (peer.vxlanMAC) return peer.vxlanMAC;
  const b = createHash('sha256').update(`tscni.vxlan ${peer.name}`).digest().subarray(0, 6);
  b[0] = (b[0] & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

const split = (cidr: string) => {
  const [ip, len] = cidr.split('/');
  return { ip, len: Number(len) };
};
const v6 = (s: string) => s.includes(':');

/** The address of `peer` used as the underlay for this node's vxlan (same family as this node's first address). */
export function underlayAddress(peer: Peer, self: Peer): string {
  return peer.addresses.find((a) => v6(a) === v6(self.addresses[0])) as string;
}

export interface PeerPlan { readonly routes: readonly WantedRoute[]; readonly neigh: readonly WantedNeigh[]; readonly fdb: readonly WantedFdb[] }

/** The entries one remote peer needs on this node (host-gw: a route per pod CIDR; vxlan: FDB, neighbours, onlink routes). */
export function planPeer(cfg: AgentConfig, self: Peer, p: Peer): PeerPlan {
  if (cfg.backend === 'host-gw') {
    const routes = p.podCIDRs.map((c) => ({ dst: split(c).ip, dstLen: split(c).len, gw: p.addresses.find((a) => v6(a) === v6(c)) as string, onlink: false, peer: p.name }));
    return { routes, neigh: [], fdb: [] };
  }
  const mac = vxlanMac(p);
  const routes: WantedRoute[] = [];
  const neigh: WantedNeigh[] = [];
  for (const c of p.podCIDRs) {
    const { ip, len } = split(c);
    routes.push({ dst: ip, dstLen: len, gw: ip, onlink: true, peer: p.name });
    neigh.push({ ip, mac, peer: p.name });
  }
  return { routes, neigh, fdb: [{ mac, dst: underlayAddress(p, self), peer: p.name }] };
}

/** The plan's entries grouped by peer (every remote peer has a group, possibly of nothing). */
export function byPeer(cfg: AgentConfig, p: Plan): Map<string, PeerPlan> {
  const out = new Map<string, { routes: WantedRoute[]; neigh: WantedNeigh[]; fdb: WantedFdb[] }>();
  for (const peer of cfg.peers) if (peer.name !== cfg.node) out.set(peer.name, { routes: [], neigh: [], fdb: [] });
  for (const r of p.routes) out.get(r.peer)?.routes.push(r);
  for (const n of p.neigh) out.get(n.peer)?.neigh.push(n);
  for (const f of p.fdb) out.get(f.peer)?.fdb.push(f);
  return out;
}

export function plan(cfg: AgentConfig, underlay?: Underlay): Plan {
  const self = cfg.peers.find((p) => p.name === cfg.node) as Peer;
  const remote = cfg.peers.filter((p) => p !== self).map((p) => planPeer(cfg, self, p));
  const clusterCidrs = cfg.peers.flatMap((p) => p.podCIDRs).sort();
  const entries = { routes: remote.flatMap((r) => r.routes), neigh: remote.flatMap((r) => r.neigh), fdb: remote.flatMap((r) => r.fdb) };
  if (cfg.backend === 'host-gw') return { ...entries, clusterCidrs };
  if (!underlay) throw new Error('vxlan plan needs the underlay link');
  const local = underlayAddress(self, self);
  const overhead = v6(local) ? 70 : 50;
  const vxlan: WantedVxlan = {
    vni: cfg.vxlan.vni, port: cfg.vxlan.port, local, mtu: cfg.vxlan.mtu ?? underlay.mtu - overhead, mac: vxlanMac(self),
    addrs: self.podCIDRs.map((c) => ({ ip: split(c).ip, prefixLen: v6(c) ? 128 : 32 })),
  };
  return { routes: entries.routes, vxlan, neigh: entries.neigh, fdb: entries.fdb, clusterCidrs };
}

/** The underlay link to use: `vxlan.device` if set, else the link holding this node's underlay address. */
export function underlayWanted(cfg: AgentConfig): { device?: string; address: string } {
  const self = cfg.peers.find((p) => p.name === cfg.node) as Peer;
  return { device: cfg.vxlan.device, address: underlayAddress(self, self) };
}
