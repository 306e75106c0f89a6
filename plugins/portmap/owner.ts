// Owner tags: the (network, container id, ifname) stored as the nft comment of every element an attachment publishes.

import { createHash } from 'node:crypto';

// nft keeps at most 128 bytes of comment per element; longer tags fall back to hashes that still name the network.
const MAX = 127;
const hash = (s: string, n: number) => '#' + createHash('sha256').update(s).digest('hex').slice(0, n);

/** The network's first token of every tag: the name itself when short, otherwise a hash of it. */
export function netToken(network: string): string {
  return network.length <= 48 ? network : hash(network, 24);
}

/** `<network> <containerID> <ifname>`; none of the three may contain a space (libcni's character rules). */
export function ownerTag(network: string, containerId: string, ifname: string): string {
  const plain = `${network} ${containerId} ${ifname}`;
  if (plain.length <= MAX) return plain;
  return `${netToken(network)} ${hash(`${containerId} ${ifname}`, 40)}`;
}

export function belongsTo(tag: string, network: string): boolean {
  return tag.split(' ')[0] === netToken(network);
}

/** The container id a tag names, for messages (a hashed id when the plain tag was too long). */
export function containerOf(tag: string): string {
  return tag.split(' ')[1] ?? tag;
}
