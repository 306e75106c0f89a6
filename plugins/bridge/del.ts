// bridge DEL: forgives what is gone, runs every step, reports all failures together; never deletes the bridge, and
// deletes a link only when this attachment owns it (ownership.ts).

import { existsSync } from 'node:fs';
import { CniError, Code } from '../../lib/cni/errors.ts';
import type { CallContext } from '../../lib/cni/skel.ts';
import { Rtnl } from '../../lib/kernel/netlink.ts';
import { inNetns } from '../../lib/kernel/netns.ts';
import { parseBridgeConfig } from './config.ts';
import { execIpam } from './ipam.ts';
import { ownerTag } from '../../lib/cni/owner.ts';
import { removeOwned } from './nft-state.ts';
import { ownerOf } from './add.ts';
import { deleteLinkForgiving, deleteOwnedVeths, ownedPeer } from './ownership.ts';

/**
 * Deletes the container end (its peer goes with it) when this attachment owns it: its host veth carries our owner
 * tag. An interface of that name owned by someone else (DEL with another container's CNI_NETNS) is left alone.
 * Returns false when nothing was deleted.
 */
async function deleteContainerIface(netns: string, ifname: string, tag: string): Promise<boolean> {
  if (!netns || !existsSync(netns)) return false;
  let ctr: Rtnl;
  try {
    ctr = inNetns(netns, () => Rtnl.open());
  } catch (err) {
    if (err instanceof CniError && /ENOENT|not a network namespace/.test(err.message)) return false;
    throw err;
  }
  const host = Rtnl.open();
  try {
    const link = await ctr.linkByName(ifname);
    if (!link || !(await ownedPeer(host, link, tag))) return false;
    await deleteLinkForgiving(ctr, link.index);
    return true;
  } finally {
    ctr.close();
    host.close();
  }
}

/** Host veths whose owner tag passes `select` (left behind when the netns was unmounted but is still alive somewhere). */
export async function deleteTaggedVeths(select: (alias: string) => boolean): Promise<string[]> {
  const rt = Rtnl.open();
  try {
    return await deleteOwnedVeths(rt, select);
  } finally {
    rt.close();
  }
}

/** The IPAM type to release through: from the parsed config, or read leniently when the config does not parse. */
function ipamTypeForDel(ctx: CallContext): string | undefined {
  try {
    return parseBridgeConfig(ctx.conf, ctx.env.args).ipamType;
  } catch {
    // DEL forgives: a config that no longer validates still gets its lease and elements released.
    const ipam = ctx.conf.ipam as { type?: unknown } | undefined;
    return typeof ipam?.type === 'string' && ipam.type && !ipam.type.includes('/') ? ipam.type : undefined;
  }
}

export async function del(ctx: CallContext): Promise<void> {
  const ipamType = ipamTypeForDel(ctx);
  const tag = ownerTag(ownerOf(ctx));
  const failures: { what: string; err: unknown }[] = [];
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      failures.push({ what, err });
    }
  };
  let deleted = false;
  await step('delete container interface', async () => (deleted = await deleteContainerIface(ctx.env.netns, ctx.env.ifname, tag)));
  if (!deleted) await step('delete host veth by owner tag', () => deleteTaggedVeths((a) => a === tag));
  if (ipamType) await step(`IPAM ${ipamType} DEL`, () => execIpam(ctx, ipamType, 'DEL'));
  await step('remove nftables elements', () => removeOwned((c) => c === tag));
  if (failures.length === 1 && failures[0].err instanceof CniError) {
    const e = failures[0].err;
    throw new CniError(e.code, `${failures[0].what}: ${e.message}`, e.details);
  }
  if (failures.length) throw new CniError(Code.Internal, `bridge DEL incomplete: ${failures.map((f) => `${f.what}: ${(f.err as Error).message}`).join('; ')}`);
}
