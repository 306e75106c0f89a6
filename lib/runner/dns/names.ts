// Names on a network must answer one container: run refuses a --network-alias (or a name) that another container
// on the same network already answers to, and `network connect --alias` an alias taken on the network it connects
// to (docker would round-robin between them; tscni says so up front).

import { conflict } from '../cli/errors.ts';
import type { ContainerState } from '../container/store.ts';

/** Names a container answers to on `network`: its name, plus its aliases there (first network or connected one). */
function namesOn(c: ContainerState, network: string): string[] {
  if (c.network === network) return [c.name, ...(c.aliases ?? [])].map((n) => n.toLowerCase());
  const e = (c.extraNetworks ?? []).find((x) => x.network === network);
  return e ? [c.name, ...(e.aliases ?? [])].map((n) => n.toLowerCase()) : [];
}

/** Throws when one of `aliases` (for `c` on `network`) is a name or alias of another container (not exited) there. */
export function checkAliasesFree(all: readonly ContainerState[], c: ContainerState, network: string, aliases: readonly string[]): void {
  const others = all.filter((o) => o.id !== c.id && o.status !== 'exited');
  for (const a of aliases) {
    const key = a.toLowerCase();
    if (key === c.name.toLowerCase()) continue;
    const other = others.find((o) => namesOn(o, network).includes(key));
    if (other) throw conflict(`network alias ${JSON.stringify(a)} is already in use on network ${network} by container ${other.name}`);
  }
}

/**
 * Throws when one of `c`'s aliases is a name or alias of another container (not exited) on its network, or when
 * `c`'s name is another one's alias there (names are unique already).
 */
export function checkNamesFree(all: readonly ContainerState[], c: ContainerState): void {
  checkAliasesFree(all, c, c.network, c.aliases ?? []);
  const others = all.filter((o) => o.id !== c.id && o.status !== 'exited');
  const byAlias = others.find((o) => o.network === c.network && (o.aliases ?? []).some((a) => a.toLowerCase() === c.name.toLowerCase()));
  if (byAlias) throw conflict(`the name ${JSON.stringify(c.name)} is a network alias of container ${byAlias.name} on network ${c.network}`);
}
