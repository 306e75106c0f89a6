// Host-side steps around the nft transaction: route_localnet on the interface toward the container, UDP conntrack flush.

import { readFileSync } from 'node:fs';
import { capture } from '../../lib/exec/process.ts';
import { writeSysctl } from '../../lib/kernel/sysctl.ts';
import { cidrContains, maskLength, parseIp, type Ip } from '../../lib/net/ip.ts';
import type { Entry } from './rules.ts';

/** The interface of the longest-prefix IPv4 route to `addr` in the main table (/proc/net/route, host netns). */
export function routeInterface(routeTable: string, addr: string): string | undefined {
  const target = parseIp(addr);
  if (target?.family !== 4) return undefined;
  let best: { iface: string; len: number } | undefined;
  for (const line of routeTable.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    // Destination and Mask are little-endian hex.
    const le = (h: string): Ip => ({ family: 4, n: BigInt(Buffer.from(h, 'hex').readUInt32LE(0)) });
    const len = maskLength(le(f[7]).n, 4);
    if (!cidrContains({ ip: le(f[1]), prefix: len }, target)) continue;
    if (!best || len > best.len) best = { iface: f[0], len };
  }
  return best?.iface;
}

/**
 * Lets the host reach a published port through 127.0.0.1: route_localnet=1 on the interface toward the container
 * only (never `all`); the table's guard chain drops 127.0.0.0/8 arriving from anywhere but lo.
 */
export function enableRouteLocalnet(addr: string): string | undefined {
  const iface = routeInterface(readFileSync('/proc/net/route', 'utf8'), addr);
  if (!iface || iface === 'lo' || !/^[^/\s]{1,15}$/.test(iface) || iface === '.' || iface === '..') return undefined;
  writeSysctl(`net/ipv4/conf/${iface}/route_localnet`, '1');
  return iface;
}

/** The argv of the conntrack deletions for the UDP host ports of `entries` (an old flow must not keep a dead target). */
export function conntrackArgv(entries: readonly Entry[]): string[][] {
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const e of entries) {
    if (e.protocol !== 'udp') continue;
    const k = `${e.family}/${e.hostPort}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(['-D', '-f', e.family === 4 ? 'ipv4' : 'ipv6', '-p', 'udp', '--orig-port-dst', String(e.hostPort)]);
  }
  return out;
}

const CONNTRACK = ['/usr/sbin/conntrack', '/sbin/conntrack'];

/** Runs the deletions; "0 flow entries" (exit 1) is success, and any other failure is only logged. */
export async function flushUdpConntrack(entries: readonly Entry[], log: (s: string) => void): Promise<void> {
  const argvs = conntrackArgv(entries);
  if (!argvs.length) return;
  const { existsSync } = await import('node:fs');
  const bin = CONNTRACK.find((p) => existsSync(p));
  if (!bin) {
    log('portmap: conntrack not installed; stale UDP flows to the published ports were not flushed');
    return;
  }
  await Promise.all(argvs.map(async (argv) => {
    const r = await capture(bin, argv, { timeoutMs: 10_000 });
    if (r.exitCode !== 0 && !/0 flow entries/.test(r.stderr)) log(`portmap: conntrack ${argv.join(' ')}: ${r.stderr.trim()}`);
  }));
}
