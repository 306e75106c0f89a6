// Network isolation and policy, in tscni's own tables (nft JSON, one batch per container start, O(1) per packet
// and per start: sets keyed by bridge name, a fixed handful of rules, nothing per container):
//   inet tscni_runner  forward (hook forward, prio -10): jump user (the admin's chain: created once, never
//                      flushed, evaluated first), accept traffic within one bridge (with br_netfilter on, as
//                      here, bridged IP traffic passes this hook with the bridge as both iif and oif: the
//                      `same` set of bridge.bridge pairs says so, as nft cannot compare iif with oif), drop
//                      anything forwarded into or out of an --internal bridge, accept DNATed traffic (published
//                      ports are public), drop bridge-to-bridge traffic
//   bridge tscni_runner forward: drop IP frames between two ports in `noicc_ports` (--opt icc=false): the host
//                      side veth of each container on such a bridge, one element per attachment (this kernel
//                      has no `meta ibrname`, which would have keyed it by bridge)
// Containers on one bridge talk at layer 2 and never reach the inet forward hook; two networks only through a
// network both containers are on (their own interface on that bridge).

import { applyNft, listNft, type NftCommand } from '../nft/apply.ts';
import type { ConfList } from '../libcni/conflist.ts';

export const TABLE = 'tscni_runner';
export const USER_CHAIN = 'user';

export interface NetPolicy {
  bridge: string;
  internal: boolean;
  icc: boolean;
}

/** The policy a network asks for: its bridge (tscni's or the reference bridge plugin) and the runner's options. */
export function policyOf(list: Pick<ConfList, 'plugins' | 'bytes'>): NetPolicy | undefined {
  const br = list.plugins.find((p) => p.type === 'bridge');
  if (!br) return undefined;
  let opts: { internal?: unknown; icc?: unknown } = {};
  try {
    opts = (JSON.parse(list.bytes.toString('utf8')) as { tscni?: typeof opts }).tscni ?? {};
  } catch {
    opts = {};
  }
  return { bridge: typeof br.bridge === 'string' && br.bridge ? br.bridge : 'cni0', internal: opts.internal === true, icc: opts.icc !== false };
}

const inet = { family: 'inet', table: TABLE };
const brt = { family: 'bridge', table: TABLE };
const match = (left: unknown, right: unknown, op = '==') => ({ match: { op, left, right } });
const rule = (t: typeof inet, chain: string, expr: unknown[]) => ({ add: { rule: { ...t, chain, expr } } });

/** The whole batch for one network's start: tables, chains, sets (idempotent), our rules afresh, its elements. */
export function policyBatch(p: NetPolicy): NftCommand[] {
  const batch: NftCommand[] = [
    { add: { table: { family: 'inet', name: TABLE } } },
    { add: { chain: { ...inet, name: 'forward', type: 'filter', hook: 'forward', prio: -10, policy: 'accept' } } },
    // `add` leaves an existing chain and its rules alone: the admin's rules survive every start.
    { add: { chain: { ...inet, name: USER_CHAIN } } },
    { add: { set: { ...inet, name: 'bridges', type: 'ifname' } } },
    { add: { set: { ...inet, name: 'internal', type: 'ifname' } } },
    { add: { set: { ...inet, name: 'same', type: ['ifname', 'ifname'] } } },
    { flush: { chain: { ...inet, name: 'forward' } } },
    rule(inet, 'forward', [{ jump: { target: USER_CHAIN } }]),
    rule(inet, 'forward', [match({ concat: [{ meta: { key: 'iifname' } }, { meta: { key: 'oifname' } }] }, '@same'), { accept: null }]),
    rule(inet, 'forward', [match({ meta: { key: 'iifname' } }, '@internal'), { drop: null }]),
    rule(inet, 'forward', [match({ meta: { key: 'oifname' } }, '@internal'), { drop: null }]),
    rule(inet, 'forward', [match({ ct: { key: 'status' } }, 'dnat', 'in'), { accept: null }]),
    rule(inet, 'forward', [match({ meta: { key: 'iifname' } }, '@bridges'), match({ meta: { key: 'oifname' } }, '@bridges'), { drop: null }]),
    { add: { element: { ...inet, name: 'bridges', elem: [p.bridge] } } },
    { add: { element: { ...inet, name: 'same', elem: [{ concat: [p.bridge, p.bridge] }] } } },
    { add: { table: { family: 'bridge', name: TABLE } } },
    { add: { chain: { ...brt, name: 'forward', type: 'filter', hook: 'forward', prio: -10, policy: 'accept' } } },
    { add: { set: { ...brt, name: 'noicc_ports', type: 'ifname' } } },
    { flush: { chain: { ...brt, name: 'forward' } } },
    rule(brt, 'forward', [match({ meta: { key: 'iifname' } }, '@noicc_ports'), match({ meta: { key: 'oifname' } }, '@noicc_ports'), match({ meta: { key: 'protocol' } }, { set: ['ip', 'ip6'] }), { drop: null }]),
  ];
  if (p.internal) batch.push({ add: { element: { ...inet, name: 'internal', elem: [p.bridge] } } });
  return batch;
}

/** The host side of an attachment (the result's interface outside the sandbox that is not the bridge). */
export function hostVethOf(result: Record<string, unknown> | undefined, bridge: string): string | undefined {
  const ifaces = (result?.interfaces as { name: string; sandbox?: string }[] | undefined) ?? [];
  return ifaces.find((i) => !i.sandbox && i.name !== bridge)?.name;
}

/** icc=false: the attachment's host veth joins `noicc_ports` (after the ADD made it). */
export async function isolatePort(veth: string): Promise<void> {
  await applyNft([{ add: { element: { ...brt, name: 'noicc_ports', elem: [veth] } } }]);
}

/** Release: the element goes (a missing table or element is fine: DEL forgives). */
export async function releasePort(veth: string): Promise<void> {
  const listed = await listNft(['set', 'bridge', TABLE, 'noicc_ports']);
  const elems = (listed?.find((o) => o.set)?.set as { elem?: unknown[] } | undefined)?.elem ?? [];
  if (elems.includes(veth)) await applyNft([{ delete: { element: { ...brt, name: 'noicc_ports', elem: [veth] } } }]);
}

/** Applies a network's policy (one transaction). */
export async function applyPolicy(p: NetPolicy): Promise<void> {
  await applyNft(policyBatch(p));
}

/** `network rm`: the bridge's elements go (rules and the admin chain stay). */
export async function forgetBridge(bridge: string): Promise<void> {
  if (!(await listNft(['table', 'inet', TABLE]))) return;
  const batch: NftCommand[] = [];
  for (const name of ['bridges', 'internal', 'same']) {
    const listed = await listNft(['set', 'inet', TABLE, name]);
    const elems = (listed?.find((o) => o.set)?.set as { elem?: unknown[] } | undefined)?.elem ?? [];
    for (const e of elems) {
      const hit = e === bridge || JSON.stringify(e) === JSON.stringify({ concat: [bridge, bridge] });
      if (hit) batch.push({ delete: { element: { ...inet, name, elem: [e] } } });
    }
  }
  await applyNft(batch);
}
