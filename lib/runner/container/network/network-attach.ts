// The network side of a container's start and release, per network mode (net-mode.ts): a user network gets a
// netns and its CNI chain; `none` a netns and the loopback plugin; `host` nothing (runc stays in the host's
// netns); `container:X` X's netns (X must be running; X owns it). Also the /etc files each mode gets.

import { existsSync } from 'node:fs';
import { capabilityArgsFor } from '../../../libcni/capability-args.ts';
import { addNetworkList, cachedConfList, delNetworkList, type RuntimeConf } from '../../../libcni/chain.ts';
import type { ConfList } from '../../../libcni/conflist.ts';
import { cacheFile } from '../../../libcni/result-cache.ts';
import { UndoStack } from '../../../util/undo.ts';
import { conflict, Exit, RunnerError } from '../../cli/errors.ts';
import { kernelPorts, startProxy, stopProxy } from './loopback-proxy.ts';
import type { Ctx } from '../../context.ts';
import { findNetwork } from '../../networks.ts';
import { attachmentsIn, ensureResolvers, nameserversOf, retireResolvers } from '../../dns/attach.ts';
import { applyPolicy, hostVethOf, isolatePort, policyOf, releasePort, type NetPolicy } from '../../isolation.ts';
import { trace } from '../../trace.ts';
import { copyEtcFiles, writeEtcFiles, writeHostModeEtcFiles } from '../etc-files.ts';
import { createNetns, deleteNetns, netnsPath } from './named-netns.ts';
import { chainIfName, modeOf, noneConfList, ownsNetns } from './net-mode.ts';
import { alive } from '../pid.ts';
import type { ContainerState, ExtraNetwork, NetworkSettings } from '../store.ts';

export const IFNAME = 'eth0';

export function runtimeConfFor(ctx: Ctx, c: ContainerState): RuntimeConf {
  return { containerId: c.id, netns: netnsPath(ctx.paths.netnsDir, c.netnsName), ifName: chainIfName(c), capabilityArgs: capabilityArgsFor({ ...c, ports: kernelPorts(c.ports) }) };
}

/** docker's NetworkSettings from a CNI result: the container-side interface, its address and gateway. */
export function networkSettingsFrom(result: Record<string, unknown> | undefined, netns: string, ifName = IFNAME): NetworkSettings {
  const ns: NetworkSettings = { IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '' };
  if (!result) return ns;
  const ifaces = (result.interfaces as { name: string; mac?: string; sandbox?: string }[] | undefined) ?? [];
  let idx = ifaces.findIndex((i) => i.sandbox === netns && i.name === ifName);
  if (idx < 0) idx = ifaces.findIndex((i) => i.sandbox);
  if (idx >= 0) ns.MacAddress = ifaces[idx].mac ?? '';
  const ips = (result.ips as { address: string; gateway?: string; interface?: number }[] | undefined) ?? [];
  const ip = ips.find((i) => i.interface === idx && !i.address.includes(':')) ?? ips.find((i) => !i.address.includes(':')) ?? ips[0];
  if (ip) {
    const [addr, len] = ip.address.split('/');
    ns.IPAddress = addr;
    ns.IPPrefixLen = Number(len);
    ns.Gateway = ip.gateway ?? '';
  }
  const v6 = ips.find((i) => i.interface === idx && i.address.includes(':')) ?? ips.find((i) => i.address.includes(':'));
  if (ip && v6 && v6 !== ip) {
    ns.GlobalIPv6Address = v6.address.split('/')[0];
    ns.GlobalIPv6PrefixLen = Number(v6.address.split('/')[1]);
    if (v6.gateway) ns.IPv6Gateway = v6.gateway;
  }
  return ns;
}

const EMPTY: NetworkSettings = { IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '' };

/** The chain a container with a netns of its own runs: its user network's, or the none mode's loopback-only one. */
function chainOf(ctx: Ctx, c: ContainerState): ConfList {
  const m = modeOf(c);
  return m.kind === 'none' ? noneConfList() : findNetwork(ctx.paths, c.network);
}

/** The container a `container:` mode joins, re-checked at every start: it must still be running. */
export function joinedOf(ctx: Ctx, c: ContainerState): ContainerState {
  const id = c.network.slice('container:'.length);
  const t = /^[0-9a-f]{64}$/.test(id) ? ctx.containers.load(id) : undefined;
  if (!t) throw conflict(`cannot join the network of container ${id.slice(0, 12)}: it was removed`);
  if (t.status !== 'running' || !alive(t.monitorPid)) throw conflict(`cannot join the network of container ${t.name}: it is not running`);
  return t;
}

export interface Attached {
  settings: NetworkSettings;
  /** The netns runc joins; undefined: the host's (runc's own). */
  netnsPath?: string;
}

/** Network side of a start; every step it takes is on `undo`. Writes the /etc files into `dir`. */
export async function attachNetwork(ctx: Ctx, c: ContainerState, dir: string, undo: UndoStack, checkpoint: () => void): Promise<Attached> {
  const m = modeOf(c);
  if (m.kind === 'host') {
    writeHostModeEtcFiles(dir, c.hostname);
    return { settings: { ...EMPTY } };
  }
  if (m.kind === 'container') {
    const t = joinedOf(ctx, c);
    copyEtcFiles(ctx.containers.dir(t.id), dir);
    c.netnsName = t.netnsName;
    return { settings: { ...EMPTY }, netnsPath: netnsPath(ctx.paths.netnsDir, t.netnsName) };
  }
  const list = chainOf(ctx, c);
  checkpoint();
  const policy = m.kind === 'network' ? policyOf(list) : undefined;
  if (policy) await applyPolicy(policy);
  await createNetns(c.netnsName, { loUp: m.kind !== 'none' });
  trace('netns created');
  undo.push('netns', () => deleteNetns(ctx.paths.netnsDir, c.netnsName));
  checkpoint();
  const rt = runtimeConfFor(ctx, c);
  // A failed ADD still gets a DEL (the spec asks runtimes to clean up after a failed ADD).
  undo.push('network chain', () => delNetworkList(list, rt, ctx.chain()).catch(() => undefined));
  const result = await addNetworkList(list, rt, ctx.chain());
  trace('network chain ADDed');
  c.noiccPort = await isolateIfAsked(policy, result, undo);
  for (const e of c.extraNetworks ?? []) {
    checkpoint();
    undo.push(`network ${e.network}`, () => delExtra(ctx, c, e, []));
    e.settings = await addExtra(ctx, c, e);
  }
  const settings = m.kind === 'none' ? { ...EMPTY } : networkSettingsFrom(result, rt.netns);
  if (m.kind === 'network') await publishLoopback6(ctx, c, settings, undo);
  let nameservers: string[] | undefined;
  // The embedded resolver of every network `network create` made that the container is on (the default network
  // stays like docker's bridge). Each listens on its IPv4 gateway and, dual stack, the IPv6 one; resolv.conf lists
  // one network's (both addresses, as aardvark-dns does), which answers for all the networks the container shares.
  if (m.kind === 'network') {
    const atts = attachmentsIn(c, settings);
    await ensureResolvers(ctx, atts);
    nameservers = nameserversOf(ctx, atts);
  }
  writeEtcFiles(dir, c, settings.IPAddress || undefined, nameservers);
  return { settings, netnsPath: rt.netns };
}

/**
 * IPv6 host addresses: portmap DNATs them to the container's IPv6 address, so the network must have given one
 * (else nothing would answer: refused); [::1] goes through the userland proxy (loopback-proxy.ts), to the IPv6
 * address or else the IPv4 one; dual stack, a mapping without a host IP gets its [::1] side there too (docker's).
 */
async function publishLoopback6(ctx: Ctx, c: ContainerState, s: NetworkSettings, undo: UndoStack): Promise<void> {
  const v6 = c.ports.find((p) => p.hostIP.includes(':') && p.hostIP !== '::1');
  if (v6 && !s.GlobalIPv6Address) {
    throw new RunnerError(`cannot publish [${v6.hostIP}]:${v6.hostPort}->${v6.containerPort}/${v6.protocol}: network ${c.network} gave the container no IPv6 address (an IPv6 host IP needs a dual-stack network; [::1] works on any)`, Exit.Usage);
  }
  undo.push('[::1] proxy', () => stopProxy(ctx, c.id));
  if (await startProxy(ctx, c.id, c.ports, s.GlobalIPv6Address || s.IPAddress, !!s.GlobalIPv6Address)) trace('[::1] proxy started');
}

/** Network side of a release: DEL with the config cached at ADD time, then the netns. Only what `c` owns. */
export async function detachNetwork(ctx: Ctx, c: ContainerState, problems: string[]): Promise<void> {
  if (!ownsNetns(c)) return;
  await stopProxy(ctx, c.id).catch((e) => problems.push(`[::1] proxy: ${(e as Error).message}`));
  for (const e of [...(c.extraNetworks ?? [])].reverse()) await delExtra(ctx, c, e, problems);
  const rc = runtimeConfFor(ctx, c);
  let list = cachedConfList(ctx.paths.cacheDir, c.network, c.id, rc.ifName);
  if (!list) {
    try {
      list = chainOf(ctx, c);
    } catch {
      list = undefined;
    }
  }
  const cacheExists = existsSync(cacheFile(ctx.paths.cacheDir, { networkName: c.network, containerId: c.id, ifName: rc.ifName }));
  if (list && (cacheExists || existsSync(rc.netns))) {
    await delNetworkList(list, rc, ctx.chain()).catch((e) => problems.push(`network: ${(e as Error).message}`));
    trace('network chain DELeted');
  }
  await deleteNetns(ctx.paths.netnsDir, c.netnsName).catch((e) => problems.push(`netns: ${(e as Error).message}`));
  trace('netns deleted');
  await retireResolvers(ctx, [c.network], c);
  if (c.noiccPort) await releasePort(c.noiccPort).catch((e) => problems.push(`icc: ${(e as Error).message}`));
  c.noiccPort = undefined;
}

/** icc=false: the new host veth joins the no-icc ports (undone with the rest of a failed start). */
async function isolateIfAsked(policy: NetPolicy | undefined, result: Record<string, unknown> | undefined, undo?: UndoStack): Promise<string | undefined> {
  if (!policy || policy.icc) return undefined;
  const veth = hostVethOf(result, policy.bridge);
  if (!veth) return undefined;
  await isolatePort(veth);
  undo?.push('icc port', () => releasePort(veth));
  return veth;
}

function extraConf(ctx: Ctx, c: ContainerState, e: ExtraNetwork): RuntimeConf {
  return { containerId: c.id, netns: netnsPath(ctx.paths.netnsDir, c.netnsName), ifName: e.ifName };
}

/** ADDs a connected network's chain on its own interface (no port mappings: -p belongs to the first network). */
export async function addExtra(ctx: Ctx, c: ContainerState, e: ExtraNetwork): Promise<NetworkSettings> {
  const rt = extraConf(ctx, c, e);
  const list = findNetwork(ctx.paths, e.network);
  const policy = policyOf(list);
  if (policy) await applyPolicy(policy);
  const result = await addNetworkList(list, rt, ctx.chain());
  trace(`network ${e.network} ADDed on ${e.ifName}`);
  e.noiccPort = await isolateIfAsked(policy, result);
  return networkSettingsFrom(result, rt.netns, e.ifName);
}

/** DELs a connected network with the config cached at ADD time (or the current one); forgives what is gone. */
export async function delExtra(ctx: Ctx, c: ContainerState, e: ExtraNetwork, problems: string[]): Promise<void> {
  const rt = extraConf(ctx, c, e);
  let list = cachedConfList(ctx.paths.cacheDir, e.network, c.id, e.ifName);
  const cached = !!list;
  if (!list) {
    try {
      list = findNetwork(ctx.paths, e.network);
    } catch {
      list = undefined;
    }
  }
  if (!list || (!cached && !existsSync(rt.netns))) return retireResolvers(ctx, [e.network], c);
  await delNetworkList(list, rt, ctx.chain()).catch((err) => problems.push(`network ${e.network}: ${(err as Error).message}`));
  e.settings = undefined;
  if (e.noiccPort) await releasePort(e.noiccPort).catch((err) => problems.push(`icc: ${(err as Error).message}`));
  e.noiccPort = undefined;
  await retireResolvers(ctx, [e.network], c);
}

/** The next free interface name for a connected network: eth1, eth2, ... */
export function nextIfName(c: Pick<ContainerState, 'extraNetworks'>): string {
  const used = new Set((c.extraNetworks ?? []).map((e) => e.ifName));
  let n = 1;
  while (used.has(`eth${n}`)) n++;
  return `eth${n}`;
}
