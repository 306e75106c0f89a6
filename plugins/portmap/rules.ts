// portmap rules (pure): the table, its O(1) DNAT maps and masquerade sets, and the elements of one attachment, as nft JSON.

import type { NftCommand } from '../../lib/nft/apply.ts';
import type { Conditions } from './conditions.ts';
import type { ContainerAddr, Family, PortmapConfig, Protocol } from './config.ts';
import { appliesTo, isWildcard } from './config.ts';

export const TABLE = 'tscni_portmap';
const T = { family: 'inet', table: TABLE } as const;

/** One published port of one family: (hostIP or every address, protocol, hostPort) → (address, containerPort). */
export interface Entry {
  readonly family: Family;
  readonly index: number;
  readonly protocol: Protocol;
  readonly hostPort: number;
  readonly hostIP?: string;
  readonly address: string;
  readonly containerPort: number;
  /** The conditions set whose maps hold this entry (undefined: the unconditioned maps). */
  readonly tag?: string;
}

const addrType = (f: Family) => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');
const ipProto = (f: Family) => (f === 4 ? 'ip' : 'ip6');

/**
 * Map names: `addr4` / `port4` are keyed by hostIP . protocol . port, the `_any` ones by protocol . port; a network
 * with conditions has its own eight, suffixed `_c<tag>`.
 */
export const mapName = (kind: 'addr' | 'port', f: Family, wildcard: boolean, tag?: string) => `${kind}${f}${wildcard ? '_any' : ''}${tag ? `_c${tag}` : ''}`;
export const mapsOf = (tag?: string) => ([4, 6] as const).flatMap((f) => [false, true].flatMap((w) => [mapName('addr', f, w, tag), mapName('port', f, w, tag)]));
export const MAPS = mapsOf();
export const SETS = ['hairpin4', 'hairpin6', 'local4', 'all4', 'all6', 'hostips', 'condsets'];
export const CHAINS = ['prerouting', 'output', 'hostports', 'conditions', 'postrouting', 'guard'];
export const condChain = (tag: string) => `cond_${tag}`;
/** Condition-set tags are kept in the `condsets` set as 32-bit numbers. */
export const tagElem = (tag: string) => parseInt(tag, 16);
export const fromTagElem = (n: number) => n.toString(16).padStart(8, '0');

function mapDecls(tag?: string): NftCommand[] {
  const out: NftCommand[] = [];
  for (const f of [4, 6] as const) {
    for (const wildcard of [false, true]) {
      const type = wildcard ? ['inet_proto', 'inet_service'] : [addrType(f), 'inet_proto', 'inet_service'];
      out.push({ add: { map: { ...T, name: mapName('addr', f, wildcard, tag), type, map: addrType(f) } } });
      out.push({ add: { map: { ...T, name: mapName('port', f, wildcard, tag), type, map: 'inet_service' } } });
    }
  }
  return out;
}

const meta = (key: string) => ({ meta: { key } });
const payload = (protocol: string, field: string) => ({ payload: { protocol, field } });
const match = (left: unknown, right: unknown, op = '==') => ({ match: { op, left, right } });
const rule = (chain: string, expr: unknown[]) => ({ add: { rule: { ...T, chain, expr } } });
const baseChain = (name: string, type: string, hook: string, prio: number) => ({ add: { chain: { ...T, name, type, hook, prio, policy: 'accept' } } });

function dnatRule(f: Family, wildcard: boolean, tag?: string, conditions: readonly unknown[] = []): NftCommand {
  const key = { concat: [...(wildcard ? [] : [payload(ipProto(f), 'daddr')]), meta('l4proto'), payload('th', 'dport')] };
  return rule(tag ? condChain(tag) : 'hostports', [
    match(meta('nfproto'), f === 4 ? 'ipv4' : 'ipv6'),
    ...conditions,
    { dnat: { family: ipProto(f), addr: { map: { key, data: `@${mapName('addr', f, wildcard, tag)}` } }, port: { map: { key, data: `@${mapName('port', f, wildcard, tag)}` } } } },
  ]);
}

/**
 * A network's conditions set: its maps and its chain (the conditions before each map lookup), refilled on every ADD
 * of that network, plus its tag in `condsets`. The `conditions` chain jumps to every known set (see jumps()).
 */
export function conditionSet(c: Conditions): NftCommand[] {
  return [
    ...mapDecls(c.tag),
    { add: { chain: { ...T, name: condChain(c.tag) } } },
    { flush: { chain: { ...T, name: condChain(c.tag) } } },
    dnatRule(4, false, c.tag, c.v4),
    dnatRule(4, true, c.tag, c.v4),
    dnatRule(6, false, c.tag, c.v6),
    dnatRule(6, true, c.tag, c.v6),
    { add: { element: { ...T, name: 'condsets', elem: [tagElem(c.tag)] } } },
  ];
}

/** The `conditions` chain's rules: a jump to each conditions set (their number grows with networks, not ports). */
export function jumps(tags: readonly string[]): NftCommand[] {
  return [...new Set(tags)].sort().map((tag) => rule('conditions', [{ jump: { target: condChain(tag) } }]));
}

/**
 * The whole table skeleton. Chains are flushed and their fixed rules re-added in every transaction, so an ADD also
 * repairs a half-deleted table; maps and sets (the published ports) are only ever added to, never flushed here.
 */
export function skeleton(): NftCommand[] {
  const local = match({ fib: { result: 'type', flags: ['daddr'] } }, 'local');
  const dnated = match({ ct: { key: 'status' } }, 'dnat', 'in');
  return [
    { add: { table: { family: 'inet', name: TABLE } } },
    ...mapDecls(),
    // Masquerade sets. The interval ones hold one element per container *subnet* (never per container: updating an
    // interval set costs O(its size) in nft 1.0.6); masqAll needs per-container elements, in hash sets.
    { add: { set: { ...T, name: 'hairpin4', type: ['ipv4_addr', 'ipv4_addr'], flags: ['interval'] } } },
    { add: { set: { ...T, name: 'hairpin6', type: ['ipv6_addr', 'ipv6_addr'], flags: ['interval'] } } },
    { add: { set: { ...T, name: 'local4', type: 'ipv4_addr', flags: ['interval'] } } },
    { add: { set: { ...T, name: 'all4', type: 'ipv4_addr' } } },
    { add: { set: { ...T, name: 'all6', type: 'ipv6_addr' } } },
    { add: { set: { ...T, name: 'hostips', type: 'ipv6_addr' } } },
    { add: { set: { ...T, name: 'condsets', type: 'mark' } } },
    baseChain('prerouting', 'nat', 'prerouting', -100),
    baseChain('output', 'nat', 'output', -100),
    { add: { chain: { ...T, name: 'hostports' } } },
    { add: { chain: { ...T, name: 'conditions' } } },
    baseChain('postrouting', 'nat', 'postrouting', 100),
    baseChain('guard', 'filter', 'prerouting', -300),
    ...CHAINS.map((name) => ({ flush: { chain: { ...T, name } } })),
    // Only traffic addressed to this host is published; routed traffic to other hosts is left alone.
    rule('prerouting', [local, { jump: { target: 'hostports' } }]),
    // ::1 is never DNATed: the kernel drops the answers (no route_localnet for IPv6), so it is left to whatever
    // listens there (the runner's [::1] proxy for -p [::]:... and -p [::1]:...).
    rule('output', [match(payload('ip6', 'daddr'), '::1'), { return: null }]),
    rule('output', [local, { jump: { target: 'hostports' } }]),
    // Networks with conditions first: their chains DNAT only what matches; everything else falls through.
    rule('hostports', [{ jump: { target: 'conditions' } }]),
    dnatRule(4, false),
    dnatRule(4, true),
    dnatRule(6, false),
    dnatRule(6, true),
    // Hairpin and neighbours: a DNATed flow from the target's own subnet would be answered past the host, so it is
    // masqueraded; so is localhost (127.0.0.0/8 cannot leave lo), and with masqAll, everything to the target.
    rule('postrouting', [dnated, match({ concat: [payload('ip', 'saddr'), payload('ip', 'daddr')] }, '@hairpin4'), { masquerade: null }]),
    rule('postrouting', [dnated, match({ concat: [payload('ip6', 'saddr'), payload('ip6', 'daddr')] }, '@hairpin6'), { masquerade: null }]),
    rule('postrouting', [dnated, match(payload('ip', 'saddr'), { prefix: { addr: '127.0.0.0', len: 8 } }), match(payload('ip', 'daddr'), '@local4'), { masquerade: null }]),
    rule('postrouting', [dnated, match(payload('ip', 'daddr'), '@all4'), { masquerade: null }]),
    rule('postrouting', [dnated, match(payload('ip6', 'daddr'), '@all6'), { masquerade: null }]),
    // route_localnet lets 127.0.0.0/8 be routed; never from another host (pain point 3): drop it unless it came from lo.
    rule('guard', [match(meta('iifname'), 'lo', '!='), match(payload('ip', 'daddr'), { prefix: { addr: '127.0.0.0', len: 8 } }), { drop: null }]),
    rule('guard', [match(meta('iifname'), 'lo', '!='), match(payload('ip6', 'daddr'), '::1'), { drop: null }]),
  ];
}

/** The per-family entries of an attachment: every mapping that applies to the family of each container address. */
export function entriesOf(cfg: PortmapConfig, addrs: readonly ContainerAddr[]): Entry[] {
  const out: Entry[] = [];
  for (const a of addrs) {
    for (const m of cfg.mappings) {
      if (!appliesTo(m, a.family)) continue;
      const hostIP = isWildcard(m.hostIP) ? undefined : m.hostIP;
      const tag = cfg.conditions?.tag;
      out.push({ family: a.family, index: m.index, protocol: m.protocol, hostPort: m.hostPort, hostIP, address: a.address, containerPort: m.containerPort, ...(tag ? { tag } : {}) });
    }
  }
  return out;
}

export const entryKey = (e: Pick<Entry, 'hostIP' | 'protocol' | 'hostPort'>) => ({ concat: e.hostIP ? [e.hostIP, e.protocol, e.hostPort] : [e.protocol, e.hostPort] });
const withComment = (val: unknown, comment: string) => ({ elem: { val, comment } });
const elements = (verb: string, name: string, elem: unknown[]) => ({ [verb]: { element: { ...T, name, elem } } });

/** v4 host addresses are kept in the one `hostips` set as v4-mapped IPv6, so a single listing returns both families. */
export const hostipsElem = (ip: string) => (ip.includes(':') ? ip : `::ffff:${ip}`);
export const fromHostipsElem = (e: string) => (e.startsWith('::ffff:') && e.includes('.') ? e.slice(7) : e);

/**
 * Ledger probes, in the same transaction: `create` fails with EEXIST when a key is held, and the `delete` right after
 * undoes a probe that succeeded. In every map set (the unconditioned one and each conditions set) other than the
 * entry's own (where its `create` already checks it), the same key is probed; in every set, a specific hostIP probes
 * the family's wildcard key and a wildcard probes every specific hostIP ever published (the `hostips` set, bounded
 * by the host's addresses, not by ports).
 */
export function probes(entries: readonly Entry[], knownHostIPs: readonly string[], knownTags: readonly string[] = []): NftCommand[] {
  const out: NftCommand[] = [];
  const sets: (string | undefined)[] = [undefined, ...new Set(knownTags)];
  for (const e of entries) {
    if (e.tag && !sets.includes(e.tag)) sets.push(e.tag);
    for (const tag of sets) {
      const same = tag !== e.tag ? [{ ...e, tag }] : [];
      const cross = e.hostIP
        ? [{ ...e, hostIP: undefined, tag }]
        : knownHostIPs.filter((h) => (h.includes(':') ? 6 : 4) === e.family).map((h) => ({ ...e, hostIP: h, tag }));
      for (const p of [...same, ...cross]) {
        const name = mapName('addr', p.family, !p.hostIP, p.tag);
        out.push(elements('create', name, [[entryKey(p), p.family === 4 ? '0.0.0.0' : '::']]));
        out.push(elements('delete', name, [entryKey(p)]));
      }
    }
  }
  return out;
}

/**
 * The masquerade elements of one container address: with masqAll, the address itself (owned, in a hash set);
 * otherwise its subnet, shared by every container in it and so never removed (`subnet . subnet` for hairpin and
 * neighbours, `subnet` for localhost, IPv4 only). The number of subnets is bounded by networks, not containers.
 */
export function masqElements(cfg: PortmapConfig, a: ContainerAddr): { set: string; key: unknown; owned: boolean }[] {
  if (cfg.masqAll) return [{ set: `all${a.family}`, key: a.address, owned: true }];
  if (!cfg.snat) return [];
  const subnet = { prefix: { addr: a.subnet, len: a.prefixLen } };
  const out: { set: string; key: unknown; owned: boolean }[] = [{ set: `hairpin${a.family}`, key: { concat: [subnet, subnet] }, owned: false }];
  if (a.family === 4) out.push({ set: 'local4', key: subnet, owned: false });
  return out;
}

/** Everything one ADD applies, after the skeleton and probes: the owned map elements and the masquerade elements. */
export function publish(cfg: PortmapConfig, addrs: readonly ContainerAddr[], entries: readonly Entry[], owner: string): NftCommand[] {
  const out: NftCommand[] = [];
  for (const e of entries) {
    const w = !e.hostIP;
    out.push(elements('create', mapName('addr', e.family, w, e.tag), [[withComment(entryKey(e), owner), e.address]]));
    out.push(elements('create', mapName('port', e.family, w, e.tag), [[withComment(entryKey(e), owner), e.containerPort]]));
  }
  const hostIPs = [...new Set(entries.filter((e) => e.hostIP).map((e) => hostipsElem(e.hostIP!)))];
  if (hostIPs.length) out.push(elements('add', 'hostips', hostIPs));
  for (const a of addrs) {
    if (!entries.some((e) => e.family === a.family)) continue;
    for (const m of masqElements(cfg, a)) {
      out.push(elements('add', m.set, [m.key]));
      if (!m.owned) continue;
      // add, delete, add: whatever was there (an element of a container that had this address) ends up owned by us.
      out.push(elements('delete', m.set, [m.key]));
      out.push(elements('add', m.set, [withComment(m.key, owner)]));
    }
  }
  return out;
}

/** One element as listed by `nft -j list table`, with the owner comment it carries. */
export interface Listed {
  readonly name: string;
  readonly key: unknown;
  readonly value?: unknown;
  readonly comment?: string;
}

/** Deletes listed elements, grouped per map or set, in one batch. */
export function removal(items: readonly Listed[]): NftCommand[] {
  const byName = new Map<string, unknown[]>();
  for (const it of items) byName.set(it.name, [...(byName.get(it.name) ?? []), it.key]);
  return [...byName].map(([name, keys]) => elements('delete', name, keys));
}
