// One reconcile pass in the agent's netns: resolve the underlay (errors before any change), bring the VXLAN device in
// line, read what the agent owns (routes with RTPROT_TSCNI; permanent FDB/neighbour entries on tscni.vxlan, a
// device no one else writes to), apply the diff, then the masquerade exemption set. Returns the changes made.
// applyDelta writes a delta (delta.ts) without reading the kernel back: any failure there means a full pass.

import { AF, NTF, NUD, RT_TABLE_MAIN, RTN_UNICAST } from '../kernel/netlink-codec.ts';
import { Rtnl } from '../kernel/netlink.ts';
import {
  createVxlan, deleteFdb, deleteNeigh, deleteRoute, neighbours, readVxlan, replaceFdb, replaceNeigh, replaceRoute,
} from '../kernel/overlay.ts';
import { applyNft, listNft } from '../nft/apply.ts';
import { BRIDGE_TABLE, clusterCidrBatch, listedAgentCidrs } from '../nft/cluster-cidrs.ts';
import { ConfigError, type AgentConfig } from './config.ts';
import { describe, diff, type Have, type Op } from './diff.ts';
import type { DeltaPlan } from './delta.ts';
import { byPeer, plan, underlayWanted, RTPROT_TSCNI, VXLAN_DEVICE, type PeerPlan, type Plan, type Underlay } from './plan.ts';

/** `failures` maps a peer name ('' for steps of no one peer) to why one of its entries could not be written. */
export interface SyncResult {
  readonly changes: readonly string[];
  readonly plan: Plan;
  readonly failures: ReadonlyMap<string, string>;
  /** The plan per remote peer and the VXLAN link's index: what a later delta pass starts from. */
  readonly peers: Map<string, PeerPlan>;
  readonly vxlanIndex?: number;
}

const peerOf = (o: Op) => (o.op === 'replace-route' || o.op === 'conflict' ? o.route.peer : o.op === 'replace-neigh' ? o.neigh.peer : o.op === 'replace-fdb' ? o.fdb.peer : '');

/** The underlay link for vxlan; a named device that does not exist is a config error (nothing changed yet). */
async function resolveUnderlay(rtnl: Rtnl, cfg: AgentConfig): Promise<Underlay> {
  const want = underlayWanted(cfg);
  if (want.device) {
    const link = await rtnl.linkByName(want.device);
    if (!link) throw new ConfigError(`vxlan.device ${JSON.stringify(want.device)}: no such link in this network namespace`);
    return { name: link.name, index: link.index, mtu: link.mtu };
  }
  const addr = (await rtnl.addrs()).find((a) => a.address === want.address);
  const link = addr && (await rtnl.linkByIndex(addr.index));
  if (!link) throw new ConfigError(`peers[].address ${JSON.stringify(want.address)} of node ${JSON.stringify(cfg.node)}: not on any link here (set vxlan.device)`);
  return { name: link.name, index: link.index, mtu: link.mtu };
}

/** Creates or fixes tscni.vxlan; returns its index. A device with other VNI/port/local/underlay/MAC is recreated. */
async function ensureVxlan(rtnl: Rtnl, p: Plan, underlay: Underlay, changes: string[]): Promise<number> {
  const v = p.vxlan!;
  let link = await readVxlan(rtnl, VXLAN_DEVICE);
  if (link && link.kind !== 'vxlan') throw new Error(`a link named ${VXLAN_DEVICE} exists and is ${link.kind ?? 'of no kind'}, not VXLAN: left alone`);
  if (link && (link.vni !== v.vni || link.port !== v.port || link.local !== v.local || link.link !== underlay.index || link.mac !== v.mac)) {
    await rtnl.deleteLink(link.index);
    changes.push(`remove ${VXLAN_DEVICE} (settings changed)`);
    link = undefined;
  }
  if (!link) {
    await createVxlan(rtnl, { name: VXLAN_DEVICE, vni: v.vni, port: v.port, link: underlay.index, local: v.local, mtu: v.mtu, mac: v.mac });
    changes.push(`create ${VXLAN_DEVICE} vni ${v.vni} port ${v.port} local ${v.local} dev ${underlay.name} mtu ${v.mtu}`);
    link = await readVxlan(rtnl, VXLAN_DEVICE);
    if (!link) throw new Error(`${VXLAN_DEVICE} vanished right after its creation`);
  }
  if (link.mtu !== v.mtu) {
    await rtnl.setMtu(link.index, v.mtu);
    changes.push(`${VXLAN_DEVICE} mtu ${v.mtu}`);
  }
  const have = (await rtnl.addrs(AF.UNSPEC, link.index)).filter((a) => a.scope !== 253 /* link */);
  for (const a of have) {
    if (!v.addrs.some((w) => w.ip === a.address && w.prefixLen === a.prefixLen)) {
      await rtnl.delAddr(link.index, a.address, a.prefixLen);
      changes.push(`remove address ${a.address}/${a.prefixLen} from ${VXLAN_DEVICE}`);
    }
  }
  for (const w of v.addrs) {
    if (!have.some((a) => a.address === w.ip && a.prefixLen === w.prefixLen)) {
      await rtnl.addAddr(link.index, w.ip, w.prefixLen, { noDad: true });
      changes.push(`address ${w.ip}/${w.prefixLen} on ${VXLAN_DEVICE}`);
    }
  }
  if (!link.up) {
    await rtnl.setUp(link.index, true);
    changes.push(`${VXLAN_DEVICE} up`);
  }
  return link.index;
}

async function readHave(rtnl: Rtnl, p: Plan, vxlanIndex: number | undefined): Promise<Have> {
  const main = (await rtnl.routes()).filter((r) => r.table === RT_TABLE_MAIN && r.type === RTN_UNICAST);
  const routes = main.filter((r) => r.protocol === RTPROT_TSCNI);
  const wanted = new Set(p.routes.map((r) => `${r.dst}/${r.dstLen}`));
  const foreign = main.filter((r) => r.protocol !== RTPROT_TSCNI && wanted.has(`${r.dst}/${r.dstLen}`));
  if (vxlanIndex === undefined) return { routes, neigh: [], fdb: [], foreign };
  const mine = (n: { state: number }) => (n.state & NUD.PERMANENT) !== 0;
  const neigh = [...await neighbours(rtnl, AF.INET, vxlanIndex), ...await neighbours(rtnl, AF.INET6, vxlanIndex)].filter(mine);
  const fdb = (await neighbours(rtnl, AF.BRIDGE, vxlanIndex)).filter((n) => mine(n) && (n.flags & NTF.SELF) !== 0 && n.mac !== '00:00:00:00:00:00');
  return { routes, neigh, fdb: fdb.map((n) => ({ mac: n.mac, dst: n.ip })), foreign };
}

async function applyOp(rtnl: Rtnl, o: Op, vxlanIndex: number | undefined, exclusive = false): Promise<void> {
  switch (o.op) {
    case 'replace-route': return replaceRoute(rtnl, { ...o.route, oif: o.route.onlink ? vxlanIndex : undefined }, RTPROT_TSCNI, exclusive);
    case 'delete-route': return deleteRoute(rtnl, o.dst, o.dstLen, RTPROT_TSCNI);
    case 'replace-neigh': return replaceNeigh(rtnl, vxlanIndex!, o.neigh.ip, o.neigh.mac);
    case 'delete-neigh': return deleteNeigh(rtnl, vxlanIndex!, o.ip);
    case 'replace-fdb': return replaceFdb(rtnl, vxlanIndex!, o.fdb.mac, o.fdb.dst);
    case 'delete-fdb': return deleteFdb(rtnl, vxlanIndex!, o.mac, o.dst);
    case 'conflict': throw new Error(describe(o));
  }
}

/** Brings this netns in line with `cfg`. Throws ConfigError (before any change) for an unusable underlay. */
export async function syncOnce(cfg: AgentConfig): Promise<SyncResult> {
  const changes: string[] = [];
  const failures = new Map<string, string>();
  const rtnl = Rtnl.open();
  let p: Plan;
  let vxlanIndex: number | undefined;
  try {
    const underlay = cfg.backend === 'vxlan' ? await resolveUnderlay(rtnl, cfg) : undefined;
    p = plan(cfg, underlay);
    if (underlay) {
      vxlanIndex = await ensureVxlan(rtnl, p, underlay, changes);
    } else {
      const stale = await readVxlan(rtnl, VXLAN_DEVICE);
      if (stale?.kind === 'vxlan') {
        await rtnl.deleteLink(stale.index);
        changes.push(`remove ${VXLAN_DEVICE} (backend host-gw)`);
      }
    }
    // One peer the kernel refuses (an unreachable next hop, say) must not keep the others from their entries.
    for (const o of diff(p, await readHave(rtnl, p, vxlanIndex), vxlanIndex)) {
      try {
        await applyOp(rtnl, o, vxlanIndex);
        changes.push(describe(o));
      } catch (err) {
        if (!failures.has(peerOf(o))) failures.set(peerOf(o), (err as Error).message);
      }
    }
  } finally {
    rtnl.close();
  }
  const listing = (await listNft(['table', 'inet', BRIDGE_TABLE])) ?? [];
  const current = listedAgentCidrs(listing);
  const batch = clusterCidrBatch(current, [...p.clusterCidrs].sort());
  if (batch.length) {
    await applyNft(batch);
    changes.push(`masquerade exemption: ${p.clusterCidrs.join(' ')}`);
  }
  return { changes, plan: p, failures, peers: byPeer(cfg, p), vxlanIndex };
}

/**
 * Applies a delta (lib/agent/delta.ts) on `rtnl` (opened by the caller) and returns the changes; throws on the first
 * failure, after which the caller runs a full pass (which re-reads the kernel and words per-peer failures).
 */
export async function syncDelta(d: DeltaPlan, vxlanIndex: number | undefined): Promise<string[]> {
  const rtnl = Rtnl.open();
  try {
    return await applyDelta(rtnl, d, vxlanIndex);
  } finally {
    rtnl.close();
  }
}

export async function applyDelta(rtnl: Rtnl, d: DeltaPlan, vxlanIndex: number | undefined): Promise<string[]> {
  const changes: string[] = [];
  for (const o of d.ops) {
    const exclusive = o.op === 'replace-route' && d.newRoutes.has(`${o.route.dst}/${o.route.dstLen}`);
    await applyOp(rtnl, o, vxlanIndex, exclusive);
    changes.push(describe(o));
  }
  if (d.nft.length) {
    await applyNft([...d.nft]);
    changes.push(`masquerade exemption: ${[...d.cidrs.add.map((c) => `+${c}`), ...d.cidrs.del.map((c) => `-${c}`)].join(' ')}`);
  }
  return changes;
}
