// Networks the runner attaches containers to: conflists in NETCONFPATH, the default `tscni` network from conf/,
// and `network create|rm` writing bridge + host-local + portmap lists that never overlap.

import { RESERVED_NETWORK_NAMES } from './container/network/net-mode.ts';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ipaddr from 'ipaddr.js';
import { subnetsOverlap as overlapping } from '../net/subnets.ts';
import { confListFromBytes, loadAllConfLists, loadConfList, type ConfList } from '../libcni/conflist.ts';
import { conflict, notFound, RunnerError, UsageError } from './cli/errors.ts';
import type { RunnerPaths } from './paths.ts';

export const DEFAULT_NETWORK = 'tscni';

/** The default network shipped in conf/ (next to dist/ in a checkout). */
export function bundledDefaultConf(p: RunnerPaths): string {
  return resolve(p.selfDir, '../../conf/10-tscni.conflist');
}

/** Finds a network by name in NETCONFPATH; the default one falls back to the copy in conf/. */
export function findNetwork(p: RunnerPaths, name: string): ConfList {
  try {
    return loadConfList(p.netconfDir, name);
  } catch (err) {
    const fallback = bundledDefaultConf(p);
    if (name === DEFAULT_NETWORK && existsSync(fallback)) return confListFromBytes(readFileSync(fallback), fallback);
    throw notFound(`network ${name} not found in ${p.netconfDir}: create it with \`tscni network create ${name} --subnet CIDR\` (${(err as Error).message})`);
  }
}

export interface NetworkSummary {
  name: string;
  file: string;
  cniVersion: string;
  plugins: string[];
  bridge?: string;
  subnets: string[];
}

function subnetsOf(list: ConfList): string[] {
  const out: string[] = [];
  for (const p of list.plugins) {
    const ipam = p.ipam as Record<string, unknown> | undefined;
    if (!ipam) continue;
    if (typeof ipam.subnet === 'string') out.push(ipam.subnet);
    if (Array.isArray(ipam.ranges)) for (const set of ipam.ranges) if (Array.isArray(set)) for (const r of set) if (r && typeof r.subnet === 'string') out.push(r.subnet);
  }
  return out;
}

export function summarize(list: ConfList): NetworkSummary {
  const bridge = list.plugins.find((p) => p.type === 'bridge')?.bridge;
  return { name: list.name, file: list.file, cniVersion: list.cniVersion, plugins: list.plugins.map((p) => p.type), bridge: typeof bridge === 'string' ? bridge : undefined, subnets: subnetsOf(list) };
}

export function listNetworks(p: RunnerPaths): NetworkSummary[] {
  const { lists } = loadAllConfLists(p.netconfDir);
  const seen = new Set<string>();
  const out: NetworkSummary[] = [];
  for (const l of lists) if (!seen.has(l.name)) {
    seen.add(l.name);
    out.push(summarize(l));
  }
  if (!seen.has(DEFAULT_NETWORK) && existsSync(bundledDefaultConf(p))) {
    out.push(summarize(confListFromBytes(readFileSync(bundledDefaultConf(p)), bundledDefaultConf(p))));
  }
  return out;
}

/** A CIDR (a bare address is its own /32 or /128); IPv4 only as a dotted quad. */
function parseCidr(cidr: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  const [addr, prefix] = cidr.split('/');
  const v4 = ipaddr.IPv4.isValidFourPartDecimal(addr);
  const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (v4 ? 32 : 128));
  if (!prefixOk || !(v4 || (addr.includes(':') && ipaddr.IPv6.isValid(addr)))) {
    throw new UsageError(`invalid subnet ${JSON.stringify(cidr)}: expected a CIDR like 10.43.0.0/24`);
  }
  return [ipaddr.parse(addr), prefix === undefined ? (v4 ? 32 : 128) : Number(prefix)];
}

/** Two subnets overlap when one contains the other (same family only); both are validated first (exit 2). */
export function subnetsOverlap(a: string, b: string): boolean {
  parseCidr(a);
  parseCidr(b);
  return overlapping(a, b);
}

export interface CreateOptions {
  name: string;
  /** One per family at most (--subnet given once or twice: dual stack). */
  subnets: readonly string[];
  /** --gateway values, each for the subnet of its family. */
  gateways?: readonly string[];
  bridge?: string;
  ipMasq: boolean;
  /** --internal: no default route, no masquerade, nothing forwarded in or out (isolation.ts). */
  internal?: boolean;
  /** --opt icc=false: no IP traffic between two containers of this bridge. */
  icc?: boolean;
  /** --driver overlay: read by the runner only (lib/runner/overlay/), kept under the list's `tscni` key. */
  overlay?: Record<string, unknown>;
}

/** Refuses a name that is taken or reserved, and subnets that overlap another network's (before anything is written). */
export function checkNewNetwork(p: RunnerPaths, name: string, subnets: readonly string[]): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new UsageError(`invalid network name ${JSON.stringify(name)}: letters, digits, _ . - only`);
  if (RESERVED_NETWORK_NAMES.includes(name)) throw new UsageError(`invalid network name ${JSON.stringify(name)}: it is a network mode (run --network ${name})`);
  for (const s of subnets) parseCidr(s);
  for (const n of listNetworks(p)) {
    if (n.name === name) throw conflict(`network ${name} already exists (${n.file})`);
    for (const s of n.subnets) for (const mine of subnets) if (subnetsOverlap(s, mine)) throw conflict(`subnet ${mine} overlaps ${s} of network ${n.name}`);
  }
}

/**
 * The IPAM ranges of --subnet (once, or once per family) and --gateway (each inside the subnet of its family), in
 * the order given; every problem is a UsageError naming the flag and value.
 */
export function subnetRanges(subnets: readonly string[], gateways: readonly string[] = []): Record<string, string>[] {
  if (!subnets.length) throw new UsageError('network create: --subnet CIDR is required');
  const fam = (a: string) => (a.includes(':') ? 6 : 4);
  const ranges: Record<string, string>[] = [];
  for (const s of subnets) {
    const [addr] = parseCidr(s);
    if (!s.includes('/')) throw new UsageError(`invalid --subnet ${JSON.stringify(s)}: expected a CIDR like 10.43.0.0/24 or fd00:43::/64`);
    const net = (addr.kind() === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(s).toString();
    if (net !== addr.toString()) throw new UsageError(`invalid --subnet ${JSON.stringify(s)}: host bits set (it should be ${net}/${s.split('/')[1]})`);
    if (ranges.some((r) => fam(r.subnet!) === fam(s))) throw new UsageError(`invalid --subnet ${JSON.stringify(s)}: one IPv${fam(s)} subnet per network (a second --subnet is for the other family)`);
    ranges.push({ subnet: s });
  }
  for (const g of gateways) {
    if (!ipaddr.isValid(g)) throw new UsageError(`invalid --gateway ${JSON.stringify(g)}: not an IP address`);
    const r = ranges.find((x) => fam(x.subnet!) === fam(g));
    if (!r) throw new UsageError(`invalid --gateway ${JSON.stringify(g)}: no IPv${fam(g)} --subnet to put it in`);
    if (!ipaddr.parse(g).match(ipaddr.parseCIDR(r.subnet!))) throw new UsageError(`invalid --gateway ${JSON.stringify(g)}: not in --subnet ${r.subnet}`);
    if (r.gateway) throw new UsageError(`invalid --gateway ${JSON.stringify(g)}: one gateway per subnet (${r.gateway} is ${r.subnet}'s)`);
    r.gateway = g;
  }
  return ranges;
}

/** Writes <NETCONFPATH>/20-<name>.conflist: tscni bridge (gateway, masquerade) + host-local + portmap. */
export function createNetwork(p: RunnerPaths, o: CreateOptions): string {
  const ranges = subnetRanges(o.subnets, o.gateways);
  checkNewNetwork(p, o.name, o.subnets);
  const bridge = o.bridge ?? `tscni-${o.name}`.slice(0, 15);
  if (Buffer.byteLength(bridge) > 15) throw new UsageError(`invalid bridge name ${JSON.stringify(bridge)}: at most 15 bytes`);
  const routes = o.internal ? [] : ranges.map((r) => ({ dst: r.subnet!.includes(':') ? '::/0' : '0.0.0.0/0' }));
  const list = {
    cniVersion: '1.1.0',
    name: o.name,
    // Read by the runner only (libcni passes no top-level key to plugins): this network gets tscni's resolver.
    tscni: { dns: true, ...(o.internal ? { internal: true } : {}), ...(o.icc === false ? { icc: false } : {}), ...(o.overlay ? { overlay: o.overlay } : {}) },
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: o.ipMasq && !o.internal, hairpinMode: true, capabilities: { ips: true, mac: true }, ipam: { type: 'host-local', ranges: ranges.map((r) => [r]), routes } },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
  mkdirSync(p.netconfDir, { recursive: true });
  const file = join(p.netconfDir, `20-${o.name}.conflist`);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(list, null, 2) + '\n');
  renameSync(tmp, file);
  return file;
}

/** Removes the file that defines `name` (only files tscni could load from NETCONFPATH). */
export function removeNetwork(p: RunnerPaths, name: string, inUseBy: string[]): string {
  if (inUseBy.length) throw conflict(`network ${name} is in use by container(s) ${inUseBy.join(', ')}: remove them first`);
  const { lists } = loadAllConfLists(p.netconfDir);
  const l = lists.find((x) => x.name === name);
  if (!l) throw notFound(`no such network: ${name}`);
  if (dirname(l.file) !== resolve(p.netconfDir)) throw new RunnerError(`refusing to remove ${l.file}: not in ${p.netconfDir}`);
  rmSync(l.file);
  return l.file;
}

/** Whether a network's containers get the embedded resolver: networks `network create` made (`"tscni": {"dns": true}`). */
export function dnsEnabled(list: Pick<ConfList, 'bytes'>): boolean {
  try {
    return (JSON.parse(list.bytes.toString('utf8')) as { tscni?: { dns?: unknown } }).tscni?.dns === true;
  } catch {
    return false;
  }
}
