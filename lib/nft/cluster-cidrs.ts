// The masquerade exemption for pod-to-pod traffic between nodes: two interval sets in the bridge's table
// (`inet tscni_bridge` nomasq4/nomasq6) holding the cluster's pod CIDRs. The bridge plugin declares them and returns
// before masquerading a packet whose destination is in them; the node agent (lib/agent) fills them, its elements
// tagged with AGENT_COMMENT so it removes only its own. Pure JSON: applied through lib/nft/apply.ts.

import type { NftCommand } from './apply.ts';

export const BRIDGE_TABLE = 'tscni_bridge';
export const AGENT_COMMENT = 'tscni-agent';
const T = { family: 'inet', table: BRIDGE_TABLE };
const COMMENT = 'destinations never masqueraded: pod CIDRs of every node (filled by tscni agent)';

/** The two sets, exactly as both the bridge plugin and the agent declare them (`add` is idempotent). */
export function clusterSets(): NftCommand[] {
  return [
    { add: { set: { ...T, name: 'nomasq4', type: 'ipv4_addr', flags: ['interval'], comment: COMMENT } } },
    { add: { set: { ...T, name: 'nomasq6', type: 'ipv6_addr', flags: ['interval'], comment: COMMENT } } },
  ];
}

/** The postrouting rules that skip masquerade towards the sets (placed before the masquerade rules). */
export function clusterReturnRules(): NftCommand[] {
  const rule = (proto: string, set: string) => ({
    add: { rule: { ...T, chain: 'postrouting', expr: [{ match: { op: '==', left: { payload: { protocol: proto, field: 'daddr' } }, right: `@${set}` } }, { return: null }] } },
  });
  return [rule('ip', 'nomasq4'), rule('ip6', 'nomasq6')];
}

const setOf = (cidr: string) => (cidr.includes(':') ? 'nomasq6' : 'nomasq4');
const prefix = (cidr: string) => {
  const [addr, len] = cidr.split('/');
  return { prefix: { addr, len: Number(len) } };
};

/** The agent's elements as listed by `nft -j list table inet tscni_bridge`: CIDR text → set name. */
export function listedAgentCidrs(listing: readonly Record<string, unknown>[]): string[] {
  const out: string[] = [];
  for (const obj of listing) {
    const set = obj.set as { table?: string; name?: string; elem?: unknown[] } | undefined;
    if (!set || set.table !== BRIDGE_TABLE || (set.name !== 'nomasq4' && set.name !== 'nomasq6')) continue;
    for (const e of set.elem ?? []) {
      const inner = (e as { elem?: { val?: { prefix?: { addr: string; len: number } }; comment?: string } }).elem;
      const p = inner?.val?.prefix;
      if (inner?.comment === AGENT_COMMENT && p) out.push(`${p.addr}/${p.len}`);
    }
  }
  return out.sort();
}

/** One batch bringing the agent's elements from `current` to `wanted` (sets declared first, so it works on a fresh host). */
export function clusterCidrBatch(current: readonly string[], wanted: readonly string[]): NftCommand[] {
  const add = wanted.filter((c) => !current.includes(c));
  const del = current.filter((c) => !wanted.includes(c));
  if (!add.length && !del.length) return [];
  return [
    { add: { table: { family: 'inet', name: BRIDGE_TABLE } } },
    ...clusterSets(),
    ...del.map((c) => ({ delete: { element: { ...T, name: setOf(c), elem: [prefix(c)] } } })),
    ...add.map((c) => ({ add: { element: { ...T, name: setOf(c), elem: [{ elem: { val: prefix(c), comment: AGENT_COMMENT } }] } } })),
  ];
}
