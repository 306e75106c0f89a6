// Removing everything the agent owns in this netns (when the network it served is removed): its routes
// (rtm_protocol RTPROT_TSCNI), the tscni.vxlan device (its FDB and neighbour entries go with it) and its masquerade
// exemption elements. Whatever is already gone is fine. Returns what was removed, worded as the agent logs it.

import { RT_TABLE_MAIN } from '../kernel/netlink-codec.ts';
import { Rtnl } from '../kernel/netlink.ts';
import { deleteRoute, readVxlan } from '../kernel/overlay.ts';
import { applyNft, listNft } from '../nft/apply.ts';
import { BRIDGE_TABLE, clusterCidrBatch, listedAgentCidrs } from '../nft/cluster-cidrs.ts';
import { RTPROT_TSCNI, VXLAN_DEVICE } from './plan.ts';

export async function removeOwned(): Promise<string[]> {
  const removed: string[] = [];
  const rtnl = Rtnl.open();
  try {
    for (const r of await rtnl.routes()) {
      if (r.protocol !== RTPROT_TSCNI || r.table !== RT_TABLE_MAIN || !r.dst) continue;
      await deleteRoute(rtnl, r.dst, r.dstLen, RTPROT_TSCNI);
      removed.push(`remove route ${r.dst}/${r.dstLen}`);
    }
    const vx = await readVxlan(rtnl, VXLAN_DEVICE);
    if (vx?.kind === 'vxlan') {
      await rtnl.deleteLink(vx.index);
      removed.push(`remove ${VXLAN_DEVICE}`);
    }
  } finally {
    rtnl.close();
  }
  const current = listedAgentCidrs((await listNft(['table', 'inet', BRIDGE_TABLE])) ?? []);
  if (current.length) {
    await applyNft(clusterCidrBatch(current, []));
    removed.push(`masquerade exemption removed: ${current.join(' ')}`);
  }
  return removed;
}
