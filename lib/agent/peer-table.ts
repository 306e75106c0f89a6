// The validated peers kept between passes, indexed so that one changed peer is checked against all the others
// without revisiting them: names and addresses in maps, pod CIDRs per family as sorted, disjoint address ranges
// (binary search). `update` validates only the peers whose text changed; anything it cannot decide alone (the
// settings or this node changed, a malformed document, a clash) it leaves to the full parse, which also words the error.

import { checkPeerForBackend, cidrRange, ConfigError, parsePeer, type AgentConfig, type Peer } from './config.ts';

interface Range { readonly first: bigint; readonly last: bigint; readonly name: string }
export interface PeerChange { readonly name: string; readonly before?: Peer; readonly after?: Peer }
/** One validated step: the peers that changed, the new config, and how many peers were validated for it. */
export interface PeerDelta { readonly changes: readonly PeerChange[]; readonly cfg: AgentConfig; readonly validated: number }

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Equality of two JSON values (a peer's entry in two versions of the document), without serialising either. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let keys = 0;
  for (const k in x) {
    if (!(k in y) || !same(x[k], y[k])) return false;
    keys++;
  }
  for (const _ in y) keys--;
  return keys === 0;
}

function rangeOf(cidr: string, name: string): { v6: boolean; r: Range } {
  const { v6, first, last } = cidrRange(cidr);
  return { v6, r: { first, last, name } };
}

/** Index of the first range starting at or after `first`. */
function lowerBound(a: readonly Range[], first: bigint): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid].first < first) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The settings a delta cannot change: everything in the document but `peers`, with --node applied. */
export function settingsKey(doc: Record<string, unknown>, node?: string): string {
  const { peers: _peers, ...settings } = doc;
  return JSON.stringify({ ...settings, node: node ?? settings.node });
}

export class PeerTable {
  /** Each peer's entry as last applied, and the number of the last update() that saw it (duplicates, removals). */
  private readonly peers = new Map<string, { raw: unknown; peer: Peer; seen: number }>();
  private updates = 0;
  private readonly addrs = new Map<string, string>();
  private readonly ranges: { v4: Range[]; v6: Range[] } = { v4: [], v6: [] };
  private readonly key: string;
  private cfg: AgentConfig;

  /** Indexes a config that parseAgentConfig accepted, from the document it was parsed from. */
  constructor(cfg: AgentConfig, doc: Record<string, unknown>, node?: string) {
    this.cfg = cfg;
    this.key = settingsKey(doc, node);
    const raws = doc.peers as unknown[];
    cfg.peers.forEach((p, i) => {
      this.peers.set(p.name, { raw: raws[i], peer: p, seen: 0 });
      this.index(p);
    });
  }

  private index(p: Peer): void {
    for (const a of p.addresses) this.addrs.set(a, p.name);
    for (const c of p.podCIDRs) {
      const { v6, r } = rangeOf(c, p.name);
      const list = v6 ? this.ranges.v6 : this.ranges.v4;
      list.splice(lowerBound(list, r.first), 0, r);
    }
  }

  private unindex(p: Peer): void {
    for (const a of p.addresses) if (this.addrs.get(a) === p.name) this.addrs.delete(a);
    for (const c of p.podCIDRs) {
      const { v6, r } = rangeOf(c, p.name);
      const list = v6 ? this.ranges.v6 : this.ranges.v4;
      const i = lowerBound(list, r.first);
      if (list[i]?.name === p.name) list.splice(i, 1);
    }
  }

  /** True when `p` shares no name-independent key (address, pod CIDR range) with an indexed peer. */
  private fits(p: Peer): boolean {
    if (p.addresses.some((a) => this.addrs.has(a))) return false;
    return p.podCIDRs.every((c) => {
      const { v6, r } = rangeOf(c, p.name);
      const list = v6 ? this.ranges.v6 : this.ranges.v4;
      const i = lowerBound(list, r.first);
      return !(i > 0 && list[i - 1].last >= r.first) && !(i < list.length && list[i].first <= r.last);
    });
  }

  /**
   * Applies the document's peers as a delta and returns it; undefined when only a full parse can decide (the table is
   * then unchanged). Work is per changed peer, apart from comparing each peer's entry with the last one's.
   */
  update(doc: Record<string, unknown>, node?: string): PeerDelta | undefined {
    if (settingsKey(doc, node) !== this.key || !Array.isArray(doc.peers)) return undefined;
    const raws = doc.peers as unknown[];
    const pass = ++this.updates;
    const fresh = new Set<string>();
    const changed: { i: number; name: string; raw: unknown }[] = [];
    let kept = 0;
    let inPlace = raws.length === this.cfg.peers.length;
    for (let i = 0; i < raws.length; i++) {
      const v = raws[i];
      if (!isObj(v) || typeof v.name !== 'string') return undefined;
      const had = this.peers.get(v.name);
      if (had) {
        if (had.seen === pass) return undefined; // a name twice
        had.seen = pass;
        kept++;
        if (!same(had.raw, v)) changed.push({ i, name: v.name, raw: v });
        if (inPlace && this.cfg.peers[i].name !== v.name) inPlace = false;
      } else {
        if (fresh.has(v.name)) return undefined;
        fresh.add(v.name);
        changed.push({ i, name: v.name, raw: v });
      }
    }
    const removed = kept === this.peers.size ? [] : [...this.peers].filter(([, e]) => e.seen !== pass).map(([n]) => n);
    if (!changed.length && !removed.length) return { changes: [], cfg: this.cfg, validated: 0 };
    if (this.peers.get(this.cfg.node)?.seen !== pass || changed.some((c) => c.name === this.cfg.node)) return undefined;
    const self = this.peers.get(this.cfg.node)!.peer;
    let after: { c: (typeof changed)[number]; peer: Peer }[];
    try {
      after = changed.map((c) => {
        const peer = parsePeer(raws[c.i], c.i);
        checkPeerForBackend(this.cfg.backend, self, peer, c.i);
        return { c, peer };
      });
    } catch (err) {
      if (err instanceof ConfigError) return undefined;
      throw err;
    }
    const before = [...changed.map((c) => c.name), ...removed].map((n) => this.peers.get(n)?.peer).filter((p): p is Peer => !!p);
    for (const p of before) this.unindex(p);
    const added: Peer[] = [];
    for (const a of after) {
      if (!this.fits(a.peer)) {
        for (const p of added) this.unindex(p);
        for (const p of before) this.index(p);
        return undefined;
      }
      this.index(a.peer);
      added.push(a.peer);
    }
    const changes: PeerChange[] = [
      ...after.map((a) => ({ name: a.c.name, before: this.peers.get(a.c.name)?.peer, after: a.peer })),
      ...removed.map((name) => ({ name, before: this.peers.get(name)!.peer })),
    ];
    for (const a of after) this.peers.set(a.c.name, { raw: a.c.raw, peer: a.peer, seen: pass });
    for (const n of removed) this.peers.delete(n);
    // Same names in the same places: patch a copy of the old list; else rebuild it in the document's order.
    let list: Peer[];
    if (inPlace) {
      list = this.cfg.peers.slice();
      for (const a of after) list[a.c.i] = a.peer;
    } else {
      list = raws.map((v) => this.peers.get((v as { name: string }).name)!.peer);
    }
    const peers = Object.freeze(list);
    this.cfg = Object.freeze({ ...this.cfg, peers });
    return { changes, cfg: this.cfg, validated: after.length };
  }
}
