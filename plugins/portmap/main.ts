// portmap: publishes runtimeConfig.portMappings to the container addresses of prevResult with O(1) nftables DNAT maps.

import { pluginMain, type CallContext } from '../../lib/cni/skel.ts';
import { CniError, Code } from '../../lib/cni/errors.ts';
import type { Result } from '../../lib/cni/result.ts';
import { validAttachments } from '../../lib/cni/attachments.ts';
import { applyNft, type NftCommand } from '../../lib/nft/apply.ts';
import { containerAddrs, describe, parseConfig, type ContainerAddr, type PortmapConfig } from './config.ts';
import { conntrackArgv, enableRouteLocalnet, flushUdpConntrack } from './host.ts';
import { checkHostListeners, findConflict, knownHostIPs, knownTags, listedElements, readTable } from './ledger.ts';
import { portmapTag, portmapTagBelongsTo } from '../../lib/cni/owner.ts';
import { conditionSet, entriesOf, jumps, probes, publish, removal, skeleton, type Entry, type Listed } from './rules.ts';
import { statusProblem, checkEntries } from './verify.ts';

/** The validated ADD request (pure): config, container addresses, per-family entries, owner tag. */
interface Prepared {
  cfg: PortmapConfig;
  addrs: ContainerAddr[];
  entries: Entry[];
  owner: string;
}

const ownerOf = (ctx: CallContext) => portmapTag(ctx.conf.name, ctx.env.containerId, ctx.env.ifname);

function prepare(ctx: CallContext): Prepared | undefined {
  const cfg = parseConfig(ctx.conf);
  if (!ctx.prevResult) throw new CniError(Code.InvalidConfig, 'portmap must be called as a chained plugin: prevResult is missing');
  if (cfg.mappings.length === 0) return undefined;
  const addrs = containerAddrs(ctx.prevResult, ctx.env.ifname);
  const entries = entriesOf(cfg, addrs);
  return entries.length ? { cfg, addrs, entries, owner: ownerOf(ctx) } : undefined;
}

/**
 * The one transaction of an ADD: skeleton, this network's conditions set and the jumps to every set, ledger probes
 * (needing the known specific hostIPs and conditions sets: two small reads, in parallel), elements.
 */
async function batchOf(p: Prepared): Promise<NftCommand[]> {
  const [hosts, tags] = await Promise.all([p.entries.some((e) => !e.hostIP) ? knownHostIPs() : [], knownTags()]);
  const cond = p.cfg.conditions;
  return [
    ...skeleton(),
    ...(cond ? conditionSet(cond) : []),
    ...jumps(cond ? [...tags, cond.tag] : tags),
    ...probes(p.entries, hosts, tags),
    ...publish(p.cfg, p.addrs, p.entries, p.owner),
  ];
}

async function ownElements(owner: string): Promise<Listed[]> {
  const objs = await readTable();
  return objs ? listedElements(objs).filter((it) => it.comment === owner) : [];
}

/** Removes listed elements; a concurrent removal (ENOENT) makes us list again once. */
async function removeOwned(select: () => Promise<Listed[]>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const items = await select();
    if (!items.length) return;
    try {
      await applyNft(removal(items));
      return;
    } catch (err) {
      if (attempt > 0 || !(err instanceof CniError) || !/No such file or directory/.test(err.message)) throw err;
    }
  }
}

async function add(ctx: CallContext): Promise<Result | undefined> {
  const plan = prepare(ctx);
  if (!plan) return ctx.prevResult;
  const [batch] = await Promise.all([batchOf(plan), checkHostListeners(plan.entries)]);
  try {
    await applyNft(batch);
  } catch (err) {
    if (err instanceof CniError && /File exists/.test(err.message)) {
      const objs = await readTable();
      throw findConflict(plan.entries, objs ? listedElements(objs) : []) ?? err;
    }
    throw err;
  }
  try {
    const v4 = plan.addrs.find((a) => a.family === 4);
    if (plan.cfg.snat && v4 && plan.entries.some((e) => e.family === 4)) enableRouteLocalnet(v4.address);
  } catch (err) {
    // Undo: the nft transaction is the only thing applied so far.
    await removeOwned(() => ownElements(plan.owner)).catch(() => undefined);
    throw new CniError(Code.Io, `portmap: enabling route_localnet toward ${plan.addrs[0].address}: ${(err as Error).message}`);
  }
  await flushUdpConntrack(plan.entries, ctx.log);
  return ctx.prevResult;
}

async function del(ctx: CallContext): Promise<void> {
  // By owner tag only: no prevResult and no runtimeConfig needed (the reference needs the mappings again).
  await removeOwned(() => ownElements(ownerOf(ctx)));
}

async function check(ctx: CallContext): Promise<void> {
  const plan = prepare(ctx);
  const objs = await readTable();
  if (!plan) return;
  const problem = statusProblem(objs) ?? checkEntries(plan.entries, objs ? listedElements(objs) : [], plan.owner);
  if (problem) throw new CniError(Code.Internal, `portmap: ${problem}`);
}

async function status(): Promise<void> {
  const problem = statusProblem(await readTable());
  if (problem) throw new CniError(Code.StatusLimited, `portmap: ${problem}; published ports are not forwarded until the next ADD re-creates it`);
}

async function gc(ctx: CallContext): Promise<void> {
  const valid = new Set(validAttachments(ctx.conf).map((a) => portmapTag(ctx.conf.name, a.containerId, a.ifname)));
  await removeOwned(async () => {
    const objs = await readTable();
    if (!objs) return [];
    return listedElements(objs).filter((it) => it.comment !== undefined && portmapTagBelongsTo(it.comment, ctx.conf.name) && !valid.has(it.comment));
  });
}

async function plan(ctx: CallContext): Promise<unknown> {
  if (ctx.env.command === 'DEL') return { nft: removal(await ownElements(ownerOf(ctx))) };
  const p = prepare(ctx);
  if (!p) return { nft: [], note: 'no port mappings for this attachment: prevResult is returned unchanged' };
  const v4 = p.addrs.find((a) => a.family === 4);
  return {
    mappings: p.entries.map((e) => `${describe(e, e.family)} -> ${e.family === 6 ? `[${e.address}]` : e.address}:${e.containerPort}`),
    owner: p.owner,
    nft: await batchOf(p),
    routeLocalnetToward: p.cfg.snat && v4 ? v4.address : undefined,
    conntrack: conntrackArgv(p.entries).map((argv) => ['conntrack', ...argv]),
  };
}

pluginMain({
  about: 'tscni portmap plugin: publishes container ports with O(1) nftables maps (table inet tscni_portmap)',
  add,
  del,
  check,
  status,
  gc,
  plan,
});
