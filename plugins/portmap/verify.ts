// portmap read-back checks (pure): is the table whole (STATUS), and does every mapping point at its container (CHECK)?

import { describe } from './config.ts';
import { CHAINS, entryKey, MAPS, SETS, TABLE, mapName, type Entry, type Listed } from './rules.ts';

/** Rules each chain must hold (see skeleton()). */
const RULES: Record<string, number> = { prerouting: 1, output: 1, hostports: 4, postrouting: 2, guard: 2 };

/** Why the table is not whole, or undefined when every chain, map and set (and every fixed rule) is there. */
export function statusProblem(objs: readonly Record<string, unknown>[] | undefined): string | undefined {
  if (!objs) return `table inet ${TABLE} is missing (flushed ruleset?)`;
  const names = (kind: string) => new Set(objs.filter((o) => o[kind]).map((o) => (o[kind] as { name: string }).name));
  const maps = names('map');
  const sets = names('set');
  const chains = names('chain');
  const missing = [
    ...CHAINS.filter((c) => !chains.has(c)).map((c) => `chain ${c}`),
    ...MAPS.filter((m) => !maps.has(m)).map((m) => `map ${m}`),
    ...SETS.filter((s) => !sets.has(s)).map((s) => `set ${s}`),
  ];
  if (missing.length) return `table inet ${TABLE} lacks ${missing.join(', ')}`;
  const count = new Map<string, number>();
  for (const o of objs) {
    const r = o.rule as { chain: string } | undefined;
    if (r) count.set(r.chain, (count.get(r.chain) ?? 0) + 1);
  }
  const wrong = CHAINS.filter((c) => (count.get(c) ?? 0) !== RULES[c]);
  if (wrong.length) return `table inet ${TABLE}: ${wrong.map((c) => `chain ${c} has ${count.get(c) ?? 0} rules, expected ${RULES[c]}`).join('; ')}`;
  return undefined;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Why some entry is not published as expected, or undefined when every one is present, owned and correct. */
export function checkEntries(entries: readonly Entry[], listed: readonly Listed[], owner: string): string | undefined {
  for (const e of entries) {
    const key = entryKey(e);
    const what = `portMappings[${e.index}] ${describe(e, e.family)}`;
    for (const [kind, want] of [['addr', e.address], ['port', e.containerPort]] as const) {
      const name = mapName(kind, e.family, !e.hostIP);
      const it = listed.find((l) => l.name === name && same(l.key, key));
      if (!it) return `${what} is not published (no element in map ${name})`;
      if (it.comment !== owner) return `${what} is held by ${JSON.stringify(it.comment)}, not ${JSON.stringify(owner)}`;
      if (!same(it.value, want)) return `${what} points at ${JSON.stringify(it.value)} in map ${name}, expected ${JSON.stringify(want)}`;
    }
  }
  return undefined;
}
