// bridge STATUS (IPAM's answer, then 51 when forwarded traffic will be dropped) and GC (IPAM, nft elements, veths).

import { CniError, Code } from '../../lib/cni/errors.ts';
import type { CallContext } from '../../lib/cni/skel.ts';
import { listNft } from '../../lib/nft/apply.ts';
import { Rtnl } from '../../lib/kernel/netlink.ts';
import { readSysctl } from '../../lib/kernel/sysctl.ts';
import { validAttachments } from '../../lib/cni/attachments.ts';
import { parseBridgeConfig, type BridgeConfig } from './config.ts';
import { execIpam } from './ipam.ts';
import { attachmentKey, networkTag } from '../../lib/cni/owner.ts';
import { MASQ_FAMILY, TABLE } from './masq-rules.ts';
import { removeOwned } from './nft-state.ts';
import { deleteTaggedVeths } from './del.ts';

interface NftChain { family: string; table: string; name: string; policy?: string }
interface NftRule { family: string; table: string; chain: string; expr?: unknown[] }

/** Why forwarded traffic of this bridge will be dropped, from a `nft -j list ruleset` listing; undefined if it won't. */
export function forwardDropReason(ruleset: readonly Record<string, unknown>[], bridge: string): string | undefined {
  for (const obj of ruleset) {
    const c = obj.chain as NftChain | undefined;
    if (!c || (c.family !== 'ip' && c.family !== 'ip6') || c.table !== 'filter' || c.name !== 'FORWARD' || c.policy !== 'drop') continue;
    // A rule naming our bridge with an accept verdict (what `iptables -I FORWARD -i <bridge> -j ACCEPT` makes) lets it through.
    const accepted = ruleset.some((o) => {
      const r = o.rule as NftRule | undefined;
      if (!r || r.family !== c.family || r.table !== 'filter' || r.chain !== 'FORWARD') return false;
      const text = JSON.stringify(r.expr ?? []);
      return text.includes(JSON.stringify(bridge)) && text.includes('"accept"');
    });
    if (!accepted) {
      return `the ${c.family === 'ip' ? 'iptables' : 'ip6tables'} FORWARD chain (nft table ${c.family} filter) has policy DROP and no rule accepts bridge ${bridge}: containers cannot reach beyond the host (add e.g. \`${c.family === 'ip' ? 'iptables' : 'ip6tables'} -I FORWARD -i ${bridge} -j ACCEPT\` and the reverse with -o)`;
    }
  }
  return undefined;
}

async function attachedPorts(cfg: BridgeConfig): Promise<number> {
  const rt = Rtnl.open();
  try {
    const links = await rt.links();
    const br = links.find((l) => l.name === cfg.bridge && l.kind === 'bridge');
    if (!br) return 0;
    const tag = networkTag(cfg.network);
    return links.filter((l) => l.master === br.index && l.alias?.startsWith(tag)).length;
  } finally {
    rt.close();
  }
}

export async function status(ctx: CallContext): Promise<void> {
  const cfg = parseBridgeConfig(ctx.conf);
  if (cfg.ipamType) await execIpam(ctx, cfg.ipamType, 'STATUS');
  if (!cfg.ipMasq && !cfg.isGateway) return;
  const ruleset = (await listNft(['ruleset'])) ?? [];
  const drop = forwardDropReason(ruleset, cfg.bridge);
  if (drop) throw new CniError(Code.StatusLimited, drop);
  if (cfg.isGateway && readSysctl('net/ipv4/ip_forward') === '0' && (await attachedPorts(cfg)) > 0) {
    throw new CniError(Code.StatusLimited, `net.ipv4.ip_forward is 0: containers on bridge ${cfg.bridge} cannot reach beyond the host (it was switched off after ADD)`);
  }
  if (cfg.ipMasq) {
    const hasTable = ruleset.some((o) => {
      const c = o.chain as NftChain | undefined;
      return c?.family === MASQ_FAMILY && c.table === TABLE && c.name === 'postrouting';
    });
    const ports = hasTable ? 0 : await attachedPorts(cfg);
    if (!hasTable && ports > 0) {
      throw new CniError(Code.StatusLimited, `nftables chain ${MASQ_FAMILY} ${TABLE} postrouting is missing (flushed by someone else?) while ${ports} container(s) of network ${cfg.network} are attached to ${cfg.bridge}: their traffic leaves unmasqueraded; re-ADD them to restore it`);
    }
  }
}

export async function gc(ctx: CallContext): Promise<void> {
  const cfg = parseBridgeConfig(ctx.conf);
  const netTag = networkTag(cfg.network);
  const valid = new Set(validAttachments(ctx.conf).map((a) => netTag + attachmentKey(a.containerId, a.ifname, cfg.network)));
  const stale = (tag: string) => tag.startsWith(netTag) && !valid.has(tag);
  const failures: string[] = [];
  if (cfg.ipamType) {
    try {
      await execIpam(ctx, cfg.ipamType, 'GC');
    } catch (err) {
      failures.push(`IPAM ${cfg.ipamType} GC: ${(err as Error).message}`);
    }
  }
  try {
    await removeOwned(stale);
  } catch (err) {
    failures.push(`nftables: ${(err as Error).message}`);
  }
  try {
    await deleteTaggedVeths(stale);
  } catch (err) {
    failures.push(`host veths: ${(err as Error).message}`);
  }
  if (failures.length) throw new CniError(Code.Internal, `bridge GC incomplete: ${failures.join('; ')}`);
}
