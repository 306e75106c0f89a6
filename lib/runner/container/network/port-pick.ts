// Picking host ports for `-p 80`, `-p 127.0.0.1::80`, `-p 8000-8010:80` and `-P`: the first port of the range that
// no container of ours holds (the runner's ledger), no portmap map element holds (the plugin's ledger, read from
// its nft table: other runtimes' containers too) and no host process listens on (a bind probe). Runs under the
// global lock, so two runs never pick the same port.

import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { conflict } from '../../cli/errors.ts';
import type { Ctx } from '../../context.ts';
import { keyParts, listedElements, readTable } from '../../../../plugins/portmap/ledger.ts';
import { samePort, portsInUse, type PortRequest } from './ports.ts';
import type { PortMapping } from '../store.ts';

/** Linux's default net.ipv4.ip_local_port_range, which docker uses for its picks too. */
export const EPHEMERAL_RANGE: [number, number] = [32768, 60999];

type Held = Pick<PortMapping, 'hostIP' | 'hostPort' | 'protocol'>;

/**
 * Gives every request a host port: fixed ones are kept, the others get the first port of their range that is
 * not `held`, not given to an earlier request and `free` says is free. Pure but for the injected `free`.
 */
export async function assignPorts(reqs: readonly PortRequest[], held: readonly Held[], free: (m: PortMapping) => Promise<boolean>): Promise<PortMapping[]> {
  const out: PortMapping[] = reqs.filter((r) => r.hostPort !== 0).map(({ hostRange: _r, ...m }) => m);
  const result: PortMapping[] = [];
  for (const r of reqs) {
    const { hostRange, ...m } = r;
    if (m.hostPort !== 0) {
      result.push(m);
      continue;
    }
    const [lo, hi] = hostRange ?? EPHEMERAL_RANGE;
    let picked: PortMapping | undefined;
    for (let port = lo; port <= hi && !picked; port++) {
      const cand = { ...m, hostPort: port };
      if (held.some((h) => samePort(h, cand)) || out.some((o) => samePort(o, cand))) continue;
      if (await free(cand)) picked = cand;
    }
    if (!picked) throw conflict(`no free host port in ${lo}-${hi} for ${m.hostIP || '0.0.0.0'}:?->${m.containerPort}/${m.protocol}: every one is allocated or in use`);
    out.push(picked);
    result.push(picked);
  }
  return result;
}

/**
 * Whether a host process could bind the port right now (EADDRNOTAVAIL: not a local address, nobody holds it;
 * EAFNOSUPPORT: no IPv6 here). "Every address" ('') is probed on 0.0.0.0 and, IPv6-only, on `::`: a wildcard bind
 * conflicts with a listener on any one address of its family (127.0.0.1, [::1]), as the published port would.
 */
export async function bindable(m: PortMapping): Promise<boolean> {
  if (m.protocol === 'sctp') return true;
  if (m.hostIP === '') return (await probe('0.0.0.0', m)) && (await probe('::', m));
  return probe(m.hostIP, m);
}

function probe(host: string, m: PortMapping): Promise<boolean> {
  const v6 = host.includes(':');
  return new Promise((resolve) => {
    const verdict = (err?: NodeJS.ErrnoException) => resolve(err?.code !== 'EADDRINUSE' && err?.code !== 'EACCES');
    if (m.protocol === 'tcp') {
      const srv = createServer();
      srv.once('error', (err) => verdict(err));
      srv.listen({ host, port: m.hostPort, exclusive: true, ipv6Only: v6 }, () => srv.close(() => verdict()));
    } else {
      const sock = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
      sock.once('error', (err) => {
        sock.close();
        verdict(err);
      });
      sock.bind({ address: host, port: m.hostPort, exclusive: true }, () => sock.close(() => verdict()));
    }
  });
}

/** Host ports the portmap plugin's nft maps hold, whoever published them. */
async function portmapHeld(): Promise<Held[]> {
  const objs = await readTable().catch(() => undefined);
  if (!objs) return [];
  const held: Held[] = [];
  for (const it of listedElements(objs)) {
    if (!/^addr[46](_any)?(_c[0-9a-f]{8})?$/.test(it.name)) continue;
    const k = keyParts(it.key);
    if (k) held.push({ hostIP: k.hostIP ?? '', hostPort: k.hostPort, protocol: k.protocol as PortMapping['protocol'] });
  }
  return held;
}

/** The runner's picks: both ledgers, then a bind probe. The caller holds the global lock. */
export async function pickHostPorts(ctx: Ctx, reqs: readonly PortRequest[], selfId?: string): Promise<PortMapping[]> {
  if (!reqs.some((r) => r.hostPort === 0)) return reqs.map(({ hostRange: _r, ...m }) => m);
  const held: Held[] = [...(await portsInUse(ctx, selfId)).flatMap((u) => u.ports), ...(await portmapHeld())];
  return assignPorts(reqs, held, bindable);
}
