// Names on a network must answer one container: run refuses a --network-alias (or a name) that another container
// on the same network already answers to (docker would round-robin between them; tscni says so up front).

import { conflict } from '../cli/errors.ts';
import type { ContainerState } from '../container/store.ts';

/** Names a container answers to on `network` (its first network: name + aliases; connected ones: its name). */
function namesOn(c: ContainerState, network: string): string[] {
  if (c.network === network) return [c.name, ...(c.aliases ?? [])].map((n) => n.toLowerCase());
  if ((c.extraNetworks ?? []).some((e) => e.network === network)) return [c.name.toLowerCase()];
  return [];
}

/**
 * Throws when one of `c`'s aliases is a name or alias of another container (not exited) on its network, or when
 * `c`'s name is another one's alias there (names are unique already).
 */
export function checkNamesFree(all: readonly ContainerState[], c: ContainerState): void {
  const others = all.filter((o) => o.id !== c.id && o.status !== 'exited');
  for (const a of c.aliases ?? []) {
    const key = a.toLowerCase();
    if (key === c.name.toLowerCase()) continue;
    const other = others.find((o) => namesOn(o, c.network).includes(key));
    if (other) throw conflict(`network alias ${JSON.stringify(a)} is already in use on network ${c.network} by container ${other.name}`);
  }
  const byAlias = others.find((o) => o.network === c.network && (o.aliases ?? []).some((a) => a.toLowerCase() === c.name.toLowerCase()));
  if (byAlias) throw conflict(`the name ${JSON.stringify(c.name)} is a network alias of container ${byAlias.name} on network ${c.network}`);
}
