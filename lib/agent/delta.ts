// A change of a few peers as kernel operations (pure): only the changed peers are planned, and their new entries
// diffed against the entries the last pass left for them (kept per peer), so the work does not grow with the
// cluster. The kernel is not re-read: a full pass (start-up, every 10 s, and after any failure here) does that.

import type { NftCommand } from '../nft/apply.ts';
import { clusterCidrBatch } from '../nft/cluster-cidrs.ts';
import type { AgentConfig, Peer } from './config.ts';
import { diff, type Have, type Op } from './diff.ts';
import type { PeerChange } from './peer-table.ts';
import { planPeer, type PeerPlan } from './plan.ts';

export interface DeltaPlan {
  readonly ops: readonly Op[];
  /** Route prefixes no changed peer had before: added exclusively, so a route already there (not ours) is noticed. */
  readonly newRoutes: ReadonlySet<string>;
  readonly nft: readonly NftCommand[];
  /** The pod CIDRs the masquerade exemption gains and loses, for the log. */
  readonly cidrs: { readonly add: readonly string[]; readonly del: readonly string[] };
  /** The changed peers' new entries (undefined: the peer is gone), to store once applied. */
  readonly plans: ReadonlyMap<string, PeerPlan | undefined>;
  readonly planned: number;
}

const routeKey = (dst: string, dstLen: number) => `${dst}/${dstLen}`;

export function planDelta(cfg: AgentConfig, changes: readonly PeerChange[], plans: ReadonlyMap<string, PeerPlan>, vxlanIndex?: number): DeltaPlan {
  const self = cfg.peers.find((p) => p.name === cfg.node) as Peer;
  const next = new Map<string, PeerPlan | undefined>();
  let planned = 0;
  for (const c of changes) {
    next.set(c.name, c.after ? (planned++, planPeer(cfg, self, c.after)) : undefined);
  }
  const old = changes.map((c) => plans.get(c.name)).filter((p): p is PeerPlan => !!p);
  const now = [...next.values()].filter((p): p is PeerPlan => !!p);
  const have: Have = {
    routes: old.flatMap((p) => p.routes.map((r) => ({ dst: r.dst, dstLen: r.dstLen, gw: r.gw, oif: r.onlink ? vxlanIndex : undefined }))),
    neigh: old.flatMap((p) => p.neigh),
    fdb: old.flatMap((p) => p.fdb),
  };
  const want = { routes: now.flatMap((p) => p.routes), neigh: now.flatMap((p) => p.neigh), fdb: now.flatMap((p) => p.fdb), clusterCidrs: [] };
  const oldRoutes = new Set(have.routes.map((r) => routeKey(r.dst as string, r.dstLen)));
  const newRoutes = new Set(want.routes.map((r) => routeKey(r.dst, r.dstLen)).filter((k) => !oldRoutes.has(k)));
  const cidrs = (side: 'before' | 'after') => changes.flatMap((c) => c[side]?.podCIDRs ?? []).sort();
  const [before, after] = [cidrs('before'), cidrs('after')];
  return {
    ops: diff(want, have, vxlanIndex), newRoutes, nft: clusterCidrBatch(before, after), plans: next, planned,
    cidrs: { add: after.filter((c) => !before.includes(c)), del: before.filter((c) => !after.includes(c)) },
  };
}
