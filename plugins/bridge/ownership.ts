// Which links an attachment owns: the host veth whose alias is its owner tag. DEL, CHECK and GC ask here before
// they touch a link, so a call naming another container's netns (or a stale tag) never removes what it does not own.

import { NetlinkError, type Link, type Rtnl } from '../../lib/kernel/netlink.ts';

/** True when `link` is a host veth whose alias (the owner tag ADD set) passes `owner`. */
export const ownedBy = (link: Link | undefined, owner: (alias: string) => boolean): boolean =>
  link?.kind === 'veth' && link.alias !== undefined && owner(link.alias);

/**
 * The host end of container interface `cif` if attachment `tag` owns it, else undefined. The peer index is looked up
 * in the host netns (`host`); a peer that is elsewhere, gone or tagged by another attachment is not ours.
 */
export async function ownedPeer(host: Rtnl, cif: Link | undefined, tag: string): Promise<Link | undefined> {
  if (cif?.kind !== 'veth' || cif.linkIndex === undefined) return undefined;
  const peer = await host.linkByIndex(cif.linkIndex);
  return ownedBy(peer, (a) => a === tag) ? peer : undefined;
}

export const isGone = (err: unknown): boolean => err instanceof NetlinkError && (err.errno === 'ENODEV' || err.errno === 'ENOENT');

/** Deletes a link, forgiving one that is already gone. */
export async function deleteLinkForgiving(rt: Rtnl, index: number): Promise<void> {
  try {
    await rt.deleteLink(index);
  } catch (err) {
    if (!isGone(err)) throw err;
  }
}

/** Deletes every host veth whose owner tag passes `owner` (GC; DEL when the netns is gone). Returns their names. */
export async function deleteOwnedVeths(rt: Rtnl, owner: (alias: string) => boolean): Promise<string[]> {
  const doomed = (await rt.links()).filter((l) => ownedBy(l, owner));
  for (const l of doomed) await deleteLinkForgiving(rt, l.index);
  return doomed.map((l) => l.name);
}
