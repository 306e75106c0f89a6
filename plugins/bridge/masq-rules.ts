// Pure nftables JSON for the bridge: masquerade and MAC spoof check as constant rules over sets whose elements
// carry the owner tag, so an ADD adds elements (never rules) and a packet costs one hash/interval lookup.

import { canonicalIp, familyOfText, isIp, networkText, type Prefixed } from '../../lib/net/ip.ts';
import type { NftCommand } from '../../lib/nft/apply.ts';
import { clusterReturnRules, clusterSets } from '../../lib/nft/cluster-cidrs.ts';

export const TABLE = 'tscni_bridge';
export const MASQ_FAMILY = 'inet';
export const SPOOF_FAMILY = 'bridge';

/** One container address with its subnet, as IPAM gave it (`10.1.0.5/24`). */
export type MasqAddress = Prefixed;

export function parseCidr(cidr: string): MasqAddress {
  const [ip, len] = cidr.split('/');
  return { ip: canonicalIp(ip), prefixLen: Number(len), v6: familyOfText(ip) === 6 };
}

/** The subnet address of `a` (a placeholder address from a dry-run plan stays a placeholder). */
export function networkOf(a: MasqAddress): string {
  return isIp(a.ip) ? networkText(a) : '<subnet of address>';
}

const m = (family: string) => ({ family, table: TABLE });
const payload = (protocol: string, field: string) => ({ payload: { protocol, field } });
const match = (left: unknown, right: unknown, op = '==') => ({ match: { op, left, right } });

/** The table, sets and the constant postrouting chain; re-adding them is idempotent (the chain is flushed and refilled). */
export function masqBase(): NftCommand[] {
  const f = MASQ_FAMILY;
  const chain = { ...m(f), name: 'postrouting' };
  const rule = (expr: unknown[]) => ({ add: { rule: { ...m(f), chain: 'postrouting', expr } } });
  return [
    { add: { table: { family: f, name: TABLE } } },
    { add: { set: { ...m(f), name: 'masq4', type: 'ipv4_addr', comment: 'container addresses to masquerade (owner in each comment)' } } },
    { add: { set: { ...m(f), name: 'masq6', type: 'ipv6_addr', comment: 'container addresses to masquerade (owner in each comment)' } } },
    { add: { set: { ...m(f), name: 'local4', type: ['ipv4_addr', 'ipv4_addr'], flags: ['interval'], comment: 'container address . its own subnet: not masqueraded' } } },
    { add: { set: { ...m(f), name: 'local6', type: ['ipv6_addr', 'ipv6_addr'], flags: ['interval'], comment: 'container address . its own subnet: not masqueraded' } } },
    ...clusterSets(),
    { add: { chain: { ...chain, type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } } },
    { flush: { chain } },
    rule([match(payload('ip', 'daddr'), { prefix: { addr: '224.0.0.0', len: 4 } }), { return: null }]),
    rule([match(payload('ip6', 'daddr'), { prefix: { addr: 'ff00::', len: 8 } }), { return: null }]),
    rule([match({ concat: [payload('ip', 'saddr'), payload('ip', 'daddr')] }, '@local4'), { return: null }]),
    rule([match({ concat: [payload('ip6', 'saddr'), payload('ip6', 'daddr')] }, '@local6'), { return: null }]),
    ...clusterReturnRules(),
    rule([match(payload('ip', 'saddr'), '@masq4'), { masquerade: null }]),
    rule([match(payload('ip6', 'saddr'), '@masq6'), { masquerade: null }]),
  ];
}

/** Elements that masquerade `addrs` of one attachment, each tagged with `tag`. */
export function masqElements(addrs: readonly MasqAddress[], tag: string): NftCommand[] {
  const out: NftCommand[] = [];
  for (const a of addrs) {
    const fam = a.v6 ? '6' : '4';
    out.push({ add: { element: { ...m(MASQ_FAMILY), name: `masq${fam}`, elem: [{ elem: { val: a.ip, comment: tag } }] } } });
    out.push({
      add: { element: { ...m(MASQ_FAMILY), name: `local${fam}`, elem: [{ elem: { val: { concat: [a.ip, { prefix: { addr: networkOf(a), len: a.prefixLen } }] }, comment: tag } }] } },
    });
  }
  return out;
}

/** The bridge-family table that drops frames entering from a checked port with any source MAC but the container's. */
export function spoofBase(): NftCommand[] {
  const f = SPOOF_FAMILY;
  const chain = { ...m(f), name: 'prerouting' };
  const iifname = { meta: { key: 'iifname' } };
  return [
    { add: { table: { family: f, name: TABLE } } },
    { add: { set: { ...m(f), name: 'spoofchk_ports', type: 'ifname', comment: 'host veths whose source MAC is checked' } } },
    { add: { set: { ...m(f), name: 'spoofchk_allowed', type: ['ifname', 'ether_addr'], comment: 'host veth . the only MAC allowed from it' } } },
    { add: { chain: { ...chain, type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' } } },
    { flush: { chain } },
    {
      add: {
        rule: {
          ...m(f), chain: 'prerouting',
          expr: [match(iifname, '@spoofchk_ports'), match({ concat: [iifname, payload('ether', 'saddr')] }, '@spoofchk_allowed', '!='), { drop: null }],
        },
      },
    },
  ];
}

export function spoofElements(hostVeth: string, mac: string, tag: string): NftCommand[] {
  return [
    { add: { element: { ...m(SPOOF_FAMILY), name: 'spoofchk_ports', elem: [{ elem: { val: hostVeth, comment: tag } }] } } },
    { add: { element: { ...m(SPOOF_FAMILY), name: 'spoofchk_allowed', elem: [{ elem: { val: { concat: [hostVeth, mac] }, comment: tag } }] } } },
  ];
}

/** Everything one ADD applies, as a single transaction. */
export function attachmentBatch(opts: { ipMasq: boolean; macspoofchk: boolean; addrs: readonly MasqAddress[]; hostVeth: string; mac: string; tag: string }): NftCommand[] {
  const out: NftCommand[] = [];
  if (opts.ipMasq && opts.addrs.length) out.push(...masqBase(), ...masqElements(opts.addrs, opts.tag));
  if (opts.macspoofchk) out.push(...spoofBase(), ...spoofElements(opts.hostVeth, opts.mac, opts.tag));
  return out;
}

/** A set as `nft -j list` prints it: elements are bare values or {elem: {val, comment}}. */
interface ListedSet { family: string; table: string; name: string; elem?: unknown[] }

export interface OwnedElement { readonly family: string; readonly set: string; readonly val: unknown; readonly comment: string }

/** The tagged elements of tscni's sets in a `nft -j list` output. */
export function ownedElements(listing: readonly Record<string, unknown>[]): OwnedElement[] {
  const out: OwnedElement[] = [];
  for (const obj of listing) {
    const set = obj.set as ListedSet | undefined;
    if (!set || set.table !== TABLE) continue;
    for (const e of set.elem ?? []) {
      const inner = (e as { elem?: { val: unknown; comment?: string } }).elem;
      if (inner && typeof inner.comment === 'string') out.push({ family: set.family, set: set.name, val: inner.val, comment: inner.comment });
    }
  }
  return out;
}

/** One transaction deleting the given elements. */
export function deleteElements(elems: readonly OwnedElement[]): NftCommand[] {
  return elems.map((e) => ({ delete: { element: { family: e.family, table: TABLE, name: e.set, elem: [e.val] } } }));
}

/** The batch with element additions made exclusive (`create`): it fails with EEXIST instead of keeping another owner's comment. */
export function exclusive(batch: readonly NftCommand[]): NftCommand[] {
  return batch.map((c) => ((c.add as { element?: unknown } | undefined)?.element ? { create: c.add } : c));
}

/** Elements already in the tables under the keys `batch` adds but owned by someone else (stale after a crash). */
export function conflicting(batch: readonly NftCommand[], owned: readonly OwnedElement[], tag: string): OwnedElement[] {
  const keys = new Set<string>();
  for (const c of batch) {
    const el = (c.add as { element?: { family: string; name: string; elem: { elem: { val: unknown } }[] } } | undefined)?.element;
    if (el) for (const e of el.elem) keys.add(JSON.stringify([el.family, el.name, e.elem.val]));
  }
  return owned.filter((e) => e.comment !== tag && keys.has(JSON.stringify([e.family, e.set, e.val])));
}
