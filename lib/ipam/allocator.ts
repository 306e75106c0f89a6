// The pure allocator: the reference's round-robin walk over a range set, over an abstract view of the leases.

import { CniError, Code, invalidConfig } from '../cni/errors.ts';
import { formatIp, parseIp, type Ip } from '../net/ip.ts';
import { rangeContains, setContains, setString, type Range, type RangeSet, type RequestedIp } from './config.ts';

/** What the allocator may know about the store: whether an address is leased, and what an attachment holds. */
export interface LeaseView {
  isTaken(ip: string): boolean;
  /** Addresses currently leased to (id, ifname). */
  heldBy(id: string, ifname: string): readonly string[];
  /** The last address handed out in range set `index`, if any. */
  lastReserved(index: number): string | undefined;
}

export interface Allocation {
  readonly setIndex: number;
  readonly range: Range;
  readonly ip: Ip;
  readonly address: string;
}

interface Pos {
  ri: number;
  cur: bigint;
}

function step(set: RangeSet, p: Pos): Pos {
  if (p.cur === set[p.ri].end.n) {
    const ri = (p.ri + 1) % set.length;
    return { ri, cur: set[ri].start.n };
  }
  return { ri: p.ri, cur: p.cur + 1n };
}

/**
 * Every candidate of a range set in the reference's order: just after `last` when it lies in the set (so `last`
 * itself comes last), else from the first range's rangeStart; wrapping range to range; never a range's gateway.
 */
export function* candidates(set: RangeSet, last?: Ip): Generator<{ range: Range; ip: Ip }> {
  let pos: Pos;
  if (last && setContains(set, last)) pos = step(set, { ri: set.findIndex((r) => rangeContains(r, last)), cur: last.n });
  else pos = { ri: 0, cur: set[0].start.n };
  const family = set[0].start.family;
  let total = 0n;
  for (const r of set) total += r.end.n - r.start.n + 1n;
  for (let i = 0n; i < total; i++) {
    const range = set[pos.ri];
    if (pos.cur !== range.gateway.n) yield { range, ip: { family, n: pos.cur } };
    pos = step(set, pos);
  }
}

/** How many addresses of a set are still free (gateways excluded). */
export function freeCount(set: RangeSet, leased: Iterable<Ip>): bigint {
  let free = 0n;
  for (const r of set) free += r.end.n - r.start.n + 1n - (r.gateway.n >= r.start.n && r.gateway.n <= r.end.n && r.gateway.family === r.start.family ? 1n : 0n);
  for (const ip of leased) if (setContains(set, ip) && !set.some((r) => r.gateway.n === ip.n)) free--;
  return free;
}

function wrap(index: number, err: CniError): CniError {
  return new CniError(err.code, `failed to allocate for range ${index}: ${err.message}`, err.details);
}

/** One address per range set for (id, ifname): a requested one where the set holds it, else the next free in order. */
export function allocate(sets: readonly RangeSet[], view: LeaseView, requested: readonly RequestedIp[], id: string, ifname: string): Allocation[] {
  const pending = [...requested];
  const out: Allocation[] = [];
  sets.forEach((set, index) => {
    const ri = pending.findIndex((r) => setContains(set, r.ip));
    if (ri >= 0) {
      const req = pending.splice(ri, 1)[0];
      const range = set.find((r) => rangeContains(r, req.ip))!;
      const address = formatIp(req.ip);
      if (range.gateway.n === req.ip.n) throw wrap(index, invalidConfig(req.field, address, `is the gateway of range ${setString([range])}; it is never handed out`));
      if (view.isTaken(address)) {
        throw wrap(index, new CniError(Code.Internal, `requested IP address ${address} is not available in range set ${setString(set)}`));
      }
      out.push({ setIndex: index, range, ip: req.ip, address });
      return;
    }
    for (const held of view.heldBy(id, ifname)) {
      const ip = parseIp(held);
      if (ip && setContains(set, ip)) {
        throw wrap(index, new CniError(Code.Internal, `${held} has been allocated to ${id}, duplicate allocation is not allowed`));
      }
    }
    const lastStr = view.lastReserved(index);
    const last = lastStr === undefined ? undefined : parseIp(lastStr);
    for (const c of candidates(set, last)) {
      const address = formatIp(c.ip);
      if (!view.isTaken(address)) {
        out.push({ setIndex: index, range: c.range, ip: c.ip, address });
        return;
      }
    }
    throw wrap(index, new CniError(Code.TryAgain, `no IP addresses available in range set: ${setString(set)}`));
  });
  if (pending.length) {
    throw new CniError(
      Code.InvalidConfig,
      `failed to allocate all requested IPs: ${pending.map((r) => `${formatIp(r.ip)} (${r.field})`).join(', ')} lies in no range set (${sets.map(setString).join('; ')})`,
    );
  }
  return out;
}
