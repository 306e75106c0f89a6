// `network create --driver overlay`: one subnet per host, reaching across hosts through the node agent (lib/agent).
// The network is an ordinary bridge network on this host's CIDR (masquerade on, but never towards the peers' CIDRs:
// the agent fills the bridge's nomasq sets) plus a peers file and a `tscni agent` for it, started here, stopped with
// its kernel entries by `network rm`, restarted by `tscni boot`. The agent owns tscni.vxlan and every route of
// protocol 126 on the host, so a host has at most one overlay network.

import { rmSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { removeOwned } from '../../agent/teardown.ts';
import type { ConfList } from '../../libcni/conflist.ts';
import { loadAllConfLists } from '../../libcni/conflist.ts';
import type { Ctx } from '../context.ts';
import { conflict, RunnerError } from '../cli/errors.ts';
import { checkNewNetwork, createNetwork, subnetRanges, subnetsOverlap } from '../networks.ts';
import { agentFiles, agentPid, agentStatus, ensureAgent, stopAgent, type AgentFiles } from './agent-process.ts';
import { OVERLAY_OPTS, overlayConfig, splitOpts } from './options.ts';

type Out = (s: string) => void;

export interface OverlayCreate { name: string; subnets: string[]; peers: string[]; opts: string[]; gateways?: string[]; bridge?: string }

/** The overlay settings a conflist carries (`"tscni": {"overlay": {...}}`), if it is an overlay network. */
export function overlayOf(list: Pick<ConfList, 'bytes'>): { backend: string; node: string } | undefined {
  try {
    const o = (JSON.parse(list.bytes.toString('utf8')) as { tscni?: { overlay?: { backend: string; node: string } } }).tscni?.overlay;
    return o && typeof o === 'object' ? o : undefined;
  } catch {
    return undefined;
  }
}

function overlayNetworks(ctx: Ctx): ConfList[] {
  const seen = new Set<string>();
  return loadAllConfLists(ctx.paths.netconfDir).lists.filter((l) => !seen.has(l.name) && (seen.add(l.name), overlayOf(l) !== undefined));
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Undoes a create that failed after the agent may have started: agent, kernel entries, files. */
async function undo(f: AgentFiles): Promise<void> {
  await stopAgent(f);
  await removeOwned().catch(() => undefined);
  rmSync(f.dir, { recursive: true, force: true });
}

export async function createOverlay(ctx: Ctx, o: OverlayCreate, out: Out): Promise<void> {
  // Everything is validated before anything exists: flags (exit 2), then clashes with this host's networks (exit 4).
  subnetRanges(o.subnets, o.gateways);
  const { doc, cfg } = overlayConfig({ subnet: o.subnets.join(','), peers: o.peers, opts: splitOpts(o.opts, OVERLAY_OPTS) });
  checkNewNetwork(ctx.paths, o.name, o.subnets);
  const others = overlayNetworks(ctx);
  if (others.length) throw conflict(`network ${others[0].name} is already an overlay network on this host: the overlay agent owns tscni.vxlan and the host's cross-node routes, so there is one overlay network per host`);
  for (const p of cfg.peers.slice(1)) for (const c of p.podCIDRs) {
    const clash = checkClash(ctx, c);
    if (clash) throw conflict(`--peer ${p.name}: CIDR ${c} overlaps ${clash}`);
  }
  if (process.getuid?.() !== 0) throw new RunnerError('tscni network create --driver overlay needs root: its agent writes routes, links and nftables');
  const f = agentFiles(ctx.paths.stateRoot, o.name);
  mkdirSync(f.dir, { recursive: true, mode: 0o700 });
  let file: string;
  try {
    writeAtomic(f.peers, JSON.stringify(doc, null, 2) + '\n');
    await ensureAgent(f);
    file = createNetwork(ctx.paths, { name: o.name, subnets: o.subnets, gateways: o.gateways, bridge: o.bridge, ipMasq: true, overlay: { backend: cfg.backend, node: cfg.node } });
  } catch (err) {
    await undo(f);
    throw err;
  }
  const st = agentStatus(f);
  if (st?.lastSync?.error) process.stderr.write(`tscni: warning: overlay agent: ${st.lastSync.error}\n`);
  out(`${o.name} (${file}; overlay ${cfg.backend}, ${cfg.peers.length - 1} peer(s), agent pid ${agentPid(f)})\n`);
}

function checkClash(ctx: Ctx, cidr: string): string | undefined {
  for (const l of loadAllConfLists(ctx.paths.netconfDir).lists) {
    for (const p of l.plugins) {
      const ranges = ((p.ipam as { ranges?: { subnet?: string }[][] } | undefined)?.ranges ?? []).flat();
      for (const r of ranges) if (typeof r?.subnet === 'string' && subnetsOverlap(r.subnet, cidr)) return `${r.subnet} of network ${l.name}`;
    }
  }
  return undefined;
}

/** After `removeNetwork`: stops the agent, removes its kernel entries and its files. Returns what was removed. */
export async function removeOverlay(ctx: Ctx, name: string): Promise<string[]> {
  const f = agentFiles(ctx.paths.stateRoot, name);
  await stopAgent(f);
  const removed = await removeOwned();
  rmSync(f.dir, { recursive: true, force: true });
  return removed;
}

/** `tscni boot`: starts the agent of every overlay network whose agent is not running (a failure is reported, not fatal). */
export async function bootOverlays(ctx: Ctx, out: Out): Promise<void> {
  for (const l of overlayNetworks(ctx)) {
    const f = agentFiles(ctx.paths.stateRoot, l.name);
    if (agentPid(f)) continue;
    try {
      await ensureAgent(f);
      out(`network ${l.name}: overlay agent started\n`);
    } catch (err) {
      // The containers still start: their own host's traffic does not need the agent.
      process.stderr.write(`tscni: network ${l.name}: ${(err as Error).message}\n`);
    }
  }
}

/** What `network inspect` shows of an overlay network: backend, peers and the agent's status. */
export function inspectOverlay(ctx: Ctx, list: ConfList): Record<string, unknown> | undefined {
  const o = overlayOf(list);
  if (!o) return undefined;
  const f = agentFiles(ctx.paths.stateRoot, list.name);
  const st = agentStatus(f);
  const pid = agentPid(f);
  return {
    Backend: o.backend,
    Node: o.node,
    Agent: { Running: pid !== undefined, Pid: pid ?? 0, Config: f.peers, Log: f.log, LastSync: st?.lastSync, ...(st?.configError ? { ConfigError: st.configError } : {}) },
    Peers: (st?.peers ?? []).map((p) => ({ Name: p.name, Addresses: p.addresses, CIDRs: p.podCIDRs, State: p.state, Entries: p.entries })),
  };
}
