// portmap read-back checks (pure): is the table whole (STATUS), and does every mapping point at its container (CHECK)?

import { describe } from './config.ts';
import { CHAINS, condChain, entryKey, fromTagElem, mapsOf, SETS, TABLE, mapName, type Entry, type Listed } from './rules.ts';

/** Rules each fixed chain must hold (see skeleton()). */
const RULES: Record<string, number> = { prerouting: 1, output: 1, hostports: 5, postrouting: 5, guard: 2, conditions: 0 };

/** Why the table is not whole, or undefined when every chain, map and set (and every fixed rule) is there. */
export function statusProblem(objs: readonly Record<string, unknown>[] | undefined): string | undefined {
  if (!objs) return `table inet ${TABLE} is missing (flushed ruleset?)`;
  const names = (kind: string) => new Set(objs.filter((o) => o[kind]).map((o) => (o[kind] as { name: string }).name));
  const maps = names('map');
  const sets = names('set');
  const chains = names('chain');
  const condsets = objs.find((o) => (o.set as { name?: string } | undefined)?.name === 'condsets')?.set as { elem?: number[] } | undefined;
  const tags = (condsets?.elem ?? []).map(fromTagElem);
  // `conditions` holds one jump per conditions set, and each set's chain its four lookups.
  const rules: Record<string, number> = Object.fromEntries(CHAINS.map((c) => [c, c === 'conditions' ? tags.length : RULES[c]]));
  for (const tag of tags) rules[condChain(tag)] = 4;
  const missing = [
    ...Object.keys(rules).filter((c) => !chains.has(c)).map((c) => `chain ${c}`),
    ...[undefined, ...tags].flatMap(mapsOf).filter((m) => !maps.has(m)).map((m) => `map ${m}`),
    ...SETS.filter((s) => !sets.has(s)).map((s) => `set ${s}`),
  ];
  if (missing.length) return `table inet ${TABLE} lacks ${missing.join(', ')}`;
  const count = new Map<string, number>();
  for (const o of objs) {
    const r = o.rule as { chain: string } | undefined;
    if (r) count.set(r.chain, (count.get(r.chain) ?? 0) + 1);
  }
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
