// portmap read-back checks (pure): is the table whole (STATUS), and does every mapping point at its container (CHECK)?

import { describe } from './config.ts';
import type { NftCommand } from '../../lib/nft/apply.ts';
import { CHAINS, condChain, conditionSet, entryKey, fromTagElem, mapsOf, SETS, skeleton, TABLE, mapName, type Entry, type Listed } from './rules.ts';

/** How many rules each chain gets from a batch of rules.ts (chains without rules are absent). */
export function rulesPerChain(batch: readonly NftCommand[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of batch) {
    const r = (c as { add?: { rule?: { chain: string } } }).add?.rule;
    if (r) out.set(r.chain, (out.get(r.chain) ?? 0) + 1);
  }
  return out;
}

// The expected counts come from the very builders ADD applies, so a rule added to rules.ts is expected here too.
const FIXED = rulesPerChain(skeleton());
const PROBE_TAG = '00000000';
const PER_CONDITION_SET = rulesPerChain(conditionSet({ tag: PROBE_TAG, v4: [], v6: [] })).get(condChain(PROBE_TAG)) ?? 0;

/** Why the table is not whole, or undefined when every chain, map and set (and every fixed rule) is there. */
export function statusProblem(objs: readonly Record<string, unknown>[] | undefined): string | undefined {
  if (!objs) return `table inet ${TABLE} is missing (flushed ruleset?)`;
  const names = (kind: string) => new Set(objs.filter((o) => o[kind]).map((o) => (o[kind] as { name: string }).name));
  const maps = names('map');
  const sets = names('set');
  const chains = names('chain');
  const condsets = objs.find((o) => (o.set as { name?: string } | undefined)?.name === 'condsets')?.set as { elem?: number[] } | undefined;
  const tags = (condsets?.elem ?? []).map(fromTagElem);
  // `conditions` holds one jump per conditions set (jumps()), and each set's chain its lookups (conditionSet()).
  const rules: Record<string, number> = Object.fromEntries(CHAINS.map((c) => [c, c === 'conditions' ? tags.length : (FIXED.get(c) ?? 0)]));
  for (const tag of tags) rules[condChain(tag)] = PER_CONDITION_SET;
  const missing = [
    ...Object.keys(rules).filter((c) => !chains.has(c)).map((c) => `chain ${c}`),
    ...[undefined, ...tags].flatMap(mapsOf).filter((m) => !maps.has(m)).map((m) => `map ${m}`),
    ...SETS.filter((s) => !sets.has(s)).map((s) => `set ${s}`),
  ];
  if (missing.length) return `table inet ${TABLE} lacks ${missing.join(', ')}`;
  const count = rulesPerChain(objs.map((o) => ({ add: o })));
  const wrong = Object.keys(rules).filter((c) => (count.get(c) ?? 0) !== rules[c]);
  if (wrong.length) return `table inet ${TABLE}: ${wrong.map((c) => `chain ${c} has ${count.get(c) ?? 0} rules, expected ${rules[c]}`).join('; ')}`;
  return undefined;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Why some entry is not published as expected, or undefined when every one is present, owned and correct. */
export function checkEntries(entries: readonly Entry[], listed: readonly Listed[], owner: string): string | undefined {
  for (const e of entries) {
    const key = entryKey(e);
    const what = `portMappings[${e.index}] ${describe(e, e.family)}`;
    for (const [kind, want] of [['addr', e.address], ['port', e.containerPort]] as const) {
      const name = mapName(kind, e.family, !e.hostIP, e.tag);
      const it = listed.find((l) => l.name === name && same(l.key, key));
      if (!it) return `${what} is not published (no element in map ${name})`;
      if (it.comment !== owner) return `${what} is held by ${JSON.stringify(it.comment)}, not ${JSON.stringify(owner)}`;
      if (!same(it.value, want)) return `${what} points at ${JSON.stringify(it.value)} in map ${name}, expected ${JSON.stringify(want)}`;
    }
  }
  return undefined;
}
