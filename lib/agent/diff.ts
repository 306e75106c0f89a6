// What to change to bring the kernel from what it has to the plan (pure): only differences become operations, so a
// restarted agent that finds everything in place changes nothing, and nothing is ever added twice.

import type { Plan, WantedFdb, WantedNeigh, WantedRoute } from './plan.ts';

export interface HaveRoute { readonly dst?: string; readonly dstLen: number; readonly gw?: string; readonly oif?: number }
export interface HaveNeigh { readonly ip?: string; readonly mac?: string }
export interface HaveFdb { readonly mac?: string; readonly dst?: string }
export interface Have {
  readonly routes: readonly HaveRoute[];
  readonly neigh: readonly HaveNeigh[];
  readonly fdb: readonly HaveFdb[];
  /** Main-table routes that are not the agent's (another protocol), to the prefixes it wants: left alone, reported. */
  readonly foreign?: readonly (HaveRoute & { readonly protocol: number })[];
}

export type Op =
  | { readonly op: 'replace-route'; readonly route: WantedRoute }
  | { readonly op: 'delete-route'; readonly dst: string; readonly dstLen: number }
  | { readonly op: 'replace-neigh'; readonly neigh: WantedNeigh }
  | { readonly op: 'delete-neigh'; readonly ip: string }
  | { readonly op: 'replace-fdb'; readonly fdb: WantedFdb }
  | { readonly op: 'delete-fdb'; readonly mac: string; readonly dst: string }
  | { readonly op: 'conflict'; readonly route: WantedRoute; readonly protocol: number };

/** One line per operation, for the log. */
export function describe(o: Op): string {
  switch (o.op) {
    case 'replace-route': return `route ${o.route.dst}/${o.route.dstLen} via ${o.route.gw}${o.route.onlink ? ' onlink' : ''} (${o.route.peer})`;
    case 'delete-route': return `remove route ${o.dst}/${o.dstLen}`;
    case 'replace-neigh': return `neigh ${o.neigh.ip} lladdr ${o.neigh.mac} (${o.neigh.peer})`;
    case 'delete-neigh': return `remove neigh ${o.ip}`;
    case 'replace-fdb': return `fdb ${o.fdb.mac} dst ${o.fdb.dst} (${o.fdb.peer})`;
    case 'delete-fdb': return `remove fdb ${o.mac} dst ${o.dst}`;
    case 'conflict': return `route ${o.route.dst}/${o.route.dstLen} exists and is not tscni's (protocol ${o.protocol}): left alone`;
  }
}

/**
 * The operations, in a safe order: FDB and neighbour entries before the routes that use them; removals of routes
 * before the entries under them. `vxlanIndex` is the VXLAN link's index (onlink routes must leave through it).
 */
export function diff(want: Plan, have: Have, vxlanIndex?: number): Op[] {
  const key = (dst: string | undefined, len: number) => `${dst}/${len}`;
  const haveRoutes = new Map(have.routes.map((r) => [key(r.dst, r.dstLen), r]));
  const wantRoutes = new Set(want.routes.map((r) => key(r.dst, r.dstLen)));
  const routeOk = (w: WantedRoute, h: HaveRoute | undefined) => !!h && h.gw === w.gw && (!w.onlink || h.oif === vxlanIndex);

  const haveNeigh = new Map(have.neigh.map((n) => [n.ip, n.mac]));
  const wantNeigh = new Set(want.neigh.map((n) => n.ip));
  const fdbKey = (mac?: string, dst?: string) => `${mac} ${dst}`;
  const haveFdb = new Set(have.fdb.map((f) => fdbKey(f.mac, f.dst)));
  const wantFdb = new Set(want.fdb.map((f) => fdbKey(f.mac, f.dst)));

  const ops: Op[] = [];
  for (const r of have.routes) if (r.dst && !wantRoutes.has(key(r.dst, r.dstLen))) ops.push({ op: 'delete-route', dst: r.dst, dstLen: r.dstLen });
  for (const n of have.neigh) if (n.ip && !wantNeigh.has(n.ip)) ops.push({ op: 'delete-neigh', ip: n.ip });
  for (const f of have.fdb) if (f.mac && f.dst && !wantFdb.has(fdbKey(f.mac, f.dst))) ops.push({ op: 'delete-fdb', mac: f.mac, dst: f.dst });
  for (const f of want.fdb) if (!haveFdb.has(fdbKey(f.mac, f.dst))) ops.push({ op: 'replace-fdb', fdb: f });
  for (const n of want.neigh) if (haveNeigh.get(n.ip) !== n.mac) ops.push({ op: 'replace-neigh', neigh: n });
  const foreign = new Map((have.foreign ?? []).map((r) => [key(r.dst, r.dstLen), r.protocol]));
  for (const r of want.routes) {
    const theirs = foreign.get(key(r.dst, r.dstLen));
    if (theirs !== undefined) ops.push({ op: 'conflict', route: r, protocol: theirs });
    else if (!routeOk(r, haveRoutes.get(key(r.dst, r.dstLen)))) ops.push({ op: 'replace-route', route: r });
  }
  return ops;
}
