// Owner tags: the deterministic string an attachment (network, container id, ifname) leaves on everything it creates
// (nft element comments, host veth aliases), so DEL and GC remove only their own. One hash-and-truncate rule for all.

import { createHash } from 'node:crypto';

/** The attachment a tag names. */
export interface Owner {
  readonly network: string;
  readonly containerId: string;
  readonly ifname: string;
}

// nft element comments hold at most 128 bytes; long names are replaced by a hash so the tag stays exact and short.
// '#' cannot start a network name or container id, so a hashed part never collides with a literal one.
export const MAX_TAG = 127;
const hash = (s: string, n: number) => '#' + createHash('sha256').update(s).digest('hex').slice(0, n);

/** The network as it appears in a tag: the name itself when short, otherwise a hash of it. */
export function netToken(network: string): string {
  return network.length <= 48 ? network : hash(network, 24);
}

/** `plain` when it fits a tag, else `head` + a hash of `key` (`head` already holds the network token). */
const fit = (plain: string, head: string, key: string, hashLen: number) => (plain.length <= MAX_TAG ? plain : head + hash(key, hashLen));

/** bridge: the network part of a tag, `tscni <net> ` (a prefix shared by every attachment of one network). */
export function networkTag(network: string): string {
  return `tscni ${netToken(network)} `;
}

/** bridge: the attachment part, `<containerId>/<ifname>`, hashed when the whole tag would exceed 127 bytes. */
export function attachmentKey(containerId: string, ifname: string, network: string): string {
  const head = networkTag(network);
  return fit(head + `${containerId}/${ifname}`, head, `${containerId}/${ifname}`, 32).slice(head.length);
}

/** bridge: the full tag of one attachment, `tscni <net> <containerId>/<ifname>`. */
export function ownerTag(owner: Owner): string {
  return networkTag(owner.network) + attachmentKey(owner.containerId, owner.ifname, owner.network);
}

/** portmap: `<network> <containerID> <ifname>` (none may contain a space: libcni's character rules), hashed when long. */
export function portmapTag(network: string, containerId: string, ifname: string): string {
  return fit(`${network} ${containerId} ${ifname}`, `${netToken(network)} `, `${containerId} ${ifname}`, 40);
}

/** portmap: whether a tag belongs to `network`. */
export function portmapTagBelongsTo(tag: string, network: string): boolean {
  return tag.split(' ')[0] === netToken(network);
}

/** portmap: the container id a tag names, for messages (a hashed id when the plain tag was too long). */
export function portmapTagContainer(tag: string): string {
  return tag.split(' ')[1] ?? tag;
}
