// Owner tags: the deterministic string kept on every nft element and host veth alias a bridge attachment creates.

import { createHash } from 'node:crypto';
import type { Owner } from './config.ts';

// nft element comments hold at most 128 bytes; long names are replaced by a hash so the tag stays exact and short.
// '#' cannot start a network name or container id, so a hashed part never collides with a literal one.
const hash = (s: string, n: number) => '#' + createHash('sha256').update(s).digest('hex').slice(0, n);

/** The network part of a tag: `tscni <net> ` (a prefix shared by every attachment of one network). */
export function networkTag(network: string): string {
  return `tscni ${network.length <= 48 ? network : hash(network, 24)} `;
}

/** The attachment part: `<containerId>/<ifname>`, hashed when the whole tag would exceed 127 bytes. */
export function attachmentKey(containerId: string, ifname: string, network: string): string {
  const plain = `${containerId}/${ifname}`;
  return networkTag(network).length + plain.length <= 127 ? plain : hash(plain, 32);
}

/** The full tag of one attachment (network, container id, ifname). */
export function ownerTag(owner: Owner): string {
  return networkTag(owner.network) + attachmentKey(owner.containerId, owner.ifname, owner.network);
}
