// Published ports: parses -p/--publish specs ([[hostIP:][hostPort[-end]]:]containerPort[-end][/tcp|udp|sctp]) and
// holds the one meaning of "the same host port" that run, start and explain all use. A host port of 0 (`-p 80`,
// `-p 127.0.0.1::80`) or a host range for one container port (`-p 8000-8010:80`) is picked by port-pick.ts.

import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { UsageError, conflict } from '../../cli/errors.ts';
import type { Ctx } from '../../context.ts';
import { refreshState } from '../stop.ts';
import type { PortMapping } from '../store.ts';

function range(s: string, what: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new UsageError(`invalid ${what} ${JSON.stringify(s)} in -p ${spec}: expected PORT or START-END`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  for (const n of [a, b]) if (n < 1 || n > 65535) throw new UsageError(`invalid ${what} ${n} in -p ${spec}: must be 1-65535`);
  if (b < a) throw new UsageError(`invalid ${what} range ${s} in -p ${spec}: end is below start`);
  return [a, b];
}

/** A -p request: hostPort 0 means "pick one", from `hostRange` when given (else the ephemeral range). */
export type PortRequest = PortMapping & { hostRange?: [number, number] };

export function parsePublish(spec: string): PortRequest[] {
  let rest = spec;
  let protocol: PortMapping['protocol'] = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw new UsageError(`invalid protocol ${JSON.stringify(p)} in -p ${spec}: must be tcp, udp or sctp`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let hostIP = '';
  // [::1]:8080:80 or 127.0.0.1:8080:80
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIP = v6[1];
    rest = v6[2];
  } else {
    const parts = rest.split(':');
    if (parts.length === 3) {
      hostIP = parts[0];
      rest = `${parts[1]}:${parts[2]}`;
    } else if (parts.length > 3) {
      const v6 = isIP(parts.slice(0, -2).join(':')) === 6;
      throw new UsageError(`invalid -p ${spec}: expected [[hostIP:][hostPort]:]containerPort[/protocol]${v6 ? ` (an IPv6 host IP goes in brackets: -p [${parts.slice(0, -2).join(':')}]:${parts.slice(-2).join(':')})` : ''}`);
    }
  }
  if (hostIP && (!isIP(hostIP) || hostIP.includes('%'))) throw new UsageError(`invalid host IP ${JSON.stringify(hostIP)} in -p ${spec}`);
  if (v6 && isIP(hostIP) !== 6) throw new UsageError(`invalid host IP ${JSON.stringify(hostIP)} in -p ${spec}: brackets are for IPv6 addresses`);
  // One spelling per address ([0::1] is [::1]), so the ledger, the proxy and portmap agree.
  if (isIP(hostIP) === 6) hostIP = ipaddr.parse(hostIP).toString();
  if (hostIP === '::1' && protocol === 'sctp') throw new UsageError(`invalid -p ${spec}: sctp cannot be published on [::1] (the kernel cannot DNAT ::1 and the userland proxy forwards tcp and udp only)`);
  const colon = rest.lastIndexOf(':');
  const h = colon < 0 ? '' : rest.slice(0, colon);
  const c = rest.slice(colon + 1);
  const [c0, c1] = range(c, 'container port', spec);
  const out: PortRequest[] = [];
  // `-p 80`, `-p :80` is refused as before (an empty host port with no address reads as a typo), `-p IP::80` picks.
  if (h === '' && (colon < 0 || hostIP)) {
    for (let p = c0; p <= c1; p++) out.push({ hostIP, hostPort: 0, containerPort: p, protocol });
    return out;
  }
  const [h0, h1] = range(h, 'host port', spec);
  if (c0 === c1 && h1 > h0) return [{ hostIP, hostPort: 0, containerPort: c0, protocol, hostRange: [h0, h1] }];
  if (h1 - h0 !== c1 - c0) throw new UsageError(`invalid -p ${spec}: host and container port ranges differ in size`);
  for (let i = 0; i <= h1 - h0; i++) out.push({ hostIP, hostPort: h0 + i, containerPort: c0 + i, protocol });
  return out;
}

/** Two mappings claim the same host port: same protocol and port, on overlapping addresses ('' is every address). */
export function samePort(a: Pick<PortMapping, 'hostIP' | 'hostPort' | 'protocol'>, b: Pick<PortMapping, 'hostIP' | 'hostPort' | 'protocol'>): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIP === '' || b.hostIP === '' || a.hostIP === b.hostIP);
}

/** Throws docker's "port is already allocated" when a wanted port clashes with one in use or another wanted one. */
export function checkPortsFree(wanted: PortMapping[], inUse: { owner: string; ports: PortMapping[] }[]): void {
  for (let i = 0; i < wanted.length; i++) {
    for (let j = 0; j < i; j++) if (samePort(wanted[i], wanted[j])) throw conflict(`port is already allocated: ${wanted[i].hostPort}/${wanted[i].protocol} is published twice`);
    for (const u of inUse) {
      const hit = u.ports.find((p) => samePort(p, wanted[i]));
      if (hit) throw conflict(`Bind for ${wanted[i].hostIP || '0.0.0.0'}:${wanted[i].hostPort} failed: port is already allocated (by container ${u.owner})`);
    }
  }
}

/** Ports held by every other container that still holds them (not exited once its state is refreshed). */
export async function portsInUse(ctx: Ctx, selfId?: string): Promise<{ owner: string; ports: PortMapping[] }[]> {
  const inUse: { owner: string; ports: PortMapping[] }[] = [];
  for (const o of ctx.containers.all()) {
    if (o.id === selfId || o.status === 'exited' || !o.ports.length) continue;
    const fresh = await refreshState(ctx, o);
    if (fresh.status !== 'exited') inUse.push({ owner: o.name, ports: o.ports });
  }
  return inUse;
}

/**
 * Checks that `wanted` is free of every other container that still holds its ports (a container whose monitor
 * vanished gives its ports back). The caller holds the global lock.
 */
export async function checkPortsFreeOfOthers(ctx: Ctx, wanted: PortMapping[], selfId?: string): Promise<void> {
  checkPortsFree(wanted, await portsInUse(ctx, selfId));
}

/** The mapping that publishes `hostPort/protocol` on some address (explain's question), if any. */
export function publishedAt(ports: PortMapping[], hostPort: number, protocol: string): PortMapping | undefined {
  return ports.find((p) => samePort(p, { hostIP: '', hostPort, protocol: protocol as PortMapping['protocol'] }));
}

/** -P: the image's ExposedPorts ({"80/tcp": {}, "53/udp": {}}) as requests for picked host ports. */
export function exposedRequests(exposed: Record<string, unknown>): PortRequest[] {
  return Object.keys(exposed).sort().flatMap((k) => parsePublish(`0.0.0.0::${k}`).map((m) => ({ ...m, hostIP: '' })));
}

/**
 * Where the mappings are published, as docker lists them (`port`, inspect's NetworkSettings.Ports): a mapping
 * without a host IP on 0.0.0.0 and, when the container has an IPv6 address (`dualStack`), on [::] as well.
 */
export function publishedOn(ports: readonly PortMapping[], dualStack: boolean): PortMapping[] {
  return ports.flatMap((p) => (p.hostIP ? [p] : [{ ...p, hostIP: '0.0.0.0' }, ...(dualStack ? [{ ...p, hostIP: '::' }] : [])]));
}
