// host-local config: turns the raw network config into a frozen, fully-defaulted IPAM config (pure, no I/O).

import { CniError, Code, invalidConfig } from '../cni/errors.ts';
import { parseCniArgs, validateNetworkName } from '../cni/env.ts';
import type { Route } from '../cni/result.ts';
import { atLeast } from '../cni/version.ts';
import { bits, cidrContains, formatCidr, formatIp, lastOf, networkOf, parseCidr, parseIp, type Cidr, type Ip } from '../net/ip.ts';
import { hostProblem, subnetProblem } from '../net/subnet-checks.ts';

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';

export interface Range {
  readonly subnet: Cidr;
  readonly start: Ip;
  readonly end: Ip;
  readonly gateway: Ip;
}

export type RangeSet = readonly Range[];

export interface RequestedIp {
  readonly ip: Ip;
  /** Where the request came from, for error messages (e.g. `CNI_ARGS IP`). */
  readonly field: string;
}

export interface StoreConfig {
  readonly name: string;
  readonly dataDir: string;
}

export interface IpamConfig extends StoreConfig {
  readonly rangeSets: readonly RangeSet[];
  readonly requested: readonly RequestedIp[];
  readonly routes: readonly Route[];
  readonly resolvConf?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const rangeContains = (r: Range, ip: Ip): boolean => cidrContains(r.subnet, ip) && ip.n >= r.start.n && ip.n <= r.end.n;
export const setContains = (s: RangeSet, ip: Ip): boolean => s.some((r) => rangeContains(r, ip));
export const rangeString = (r: Range): string => `${formatIp(r.start)}-${formatIp(r.end)}`;
export const setString = (s: RangeSet): string => s.map(rangeString).join(',');

function ipamOf(conf: Obj): Obj {
  if (!isObj(conf.ipam)) throw new CniError(Code.InvalidConfig, `invalid ipam ${JSON.stringify(conf.ipam ?? null)}: IPAM config missing 'ipam' key`);
  return conf.ipam;
}

function ipField(v: unknown, field: string): Ip {
  const ip = typeof v === 'string' ? parseIp(v) : undefined;
  if (!ip) throw invalidConfig(field, v, 'not an IP address');
  return ip;
}

/** Where the store lives: enough for DEL and GC, which must work even when the ranges have since changed. */
export function parseStoreConfig(conf: Obj): StoreConfig {
  const ipam = ipamOf(conf);
  const dataDir = ipam.dataDir ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== 'string' || !dataDir.startsWith('/') || dataDir.includes('\0')) {
    throw invalidConfig('ipam.dataDir', dataDir, 'must be an absolute path');
  }
  // The skeleton checks the name already; checked again for in-process callers, since it becomes a directory.
  return { name: validateNetworkName(conf.name), dataDir };
}

/**
 * Canonicalizes one range as the reference does (default gateway .1, rangeStart .1, rangeEnd the last usable
 * address) and refuses what the reference lets through: a subnet touching a reserved block, a gateway or range bound
 * that is not a host of the subnet, a range holding nothing but the gateway.
 */
export function parseRange(raw: unknown, field: string): Range {
  if (!isObj(raw)) throw invalidConfig(field, raw, 'a range must be an object with a subnet');
  const subnet = typeof raw.subnet === 'string' ? parseCidr(raw.subnet) : undefined;
  if (!subnet) throw invalidConfig(`${field}.subnet`, raw.subnet ?? null, 'not a CIDR');
  const f = subnet.ip.family;
  if (subnet.prefix > bits(f) - 2) {
    throw invalidConfig(`${field}.subnet`, raw.subnet, `network too small to allocate from (needs at least 2 host bits, at most /${bits(f) - 2})`);
  }
  const net = networkOf(subnet);
  if (net.n !== subnet.ip.n) {
    throw invalidConfig(`${field}.subnet`, raw.subnet, `network has host bits set; for a prefix of /${subnet.prefix} the network address is ${formatIp(net)}`);
  }
  const unusable = subnetProblem(subnet);
  if (unusable) throw invalidConfig(`${field}.subnet`, raw.subnet, unusable);
  const inSubnet = (key: string, v: unknown): Ip => {
    const ip = ipField(v, `${field}.${key}`);
    if (ip.family !== f) throw invalidConfig(`${field}.${key}`, v, `not the family of subnet ${formatCidr(subnet)}`);
    const why = hostProblem(subnet, ip);
    if (why) throw invalidConfig(`${field}.${key}`, v, why);
    return ip;
  };
  const first: Ip = { family: f, n: net.n + 1n };
  const last = lastOf(subnet);
  const gateway = raw.gateway === undefined || raw.gateway === null || raw.gateway === '' ? first : inSubnet('gateway', raw.gateway);
  const start = raw.rangeStart === undefined || raw.rangeStart === null || raw.rangeStart === '' ? first : inSubnet('rangeStart', raw.rangeStart);
  const end = raw.rangeEnd === undefined || raw.rangeEnd === null || raw.rangeEnd === '' ? { family: f, n: f === 4 ? last.n - 1n : last.n } : inSubnet('rangeEnd', raw.rangeEnd);
  if (end.n < start.n) throw invalidConfig(`${field}.rangeEnd`, raw.rangeEnd, `before rangeStart ${formatIp(start)}`);
  if (start.n === end.n && start.n === gateway.n) {
    throw invalidConfig(field, `${formatIp(start)}-${formatIp(end)}`, `holds only the gateway ${formatIp(gateway)}; no address is left to hand out`);
  }
  return Object.freeze({ subnet: { ip: net, prefix: subnet.prefix }, start, end, gateway });
}

const rangesOverlap = (a: Range, b: Range): boolean => a.subnet.ip.family === b.subnet.ip.family && a.start.n <= b.end.n && b.start.n <= a.end.n;

export function parseRangeSet(raw: unknown, field: string): RangeSet {
  if (!Array.isArray(raw) || raw.length === 0) throw invalidConfig(field, raw ?? null, 'a range set must be a non-empty list of ranges');
  const set = raw.map((r, i) => parseRange(r, `${field}[${i}]`));
  for (let i = 0; i < set.length; i++) {
    if (set[i].subnet.ip.family !== set[0].subnet.ip.family) {
      throw invalidConfig(`${field}[${i}].subnet`, formatCidr(set[i].subnet), `mixed address families in one range set (${field}[0] is ${formatCidr(set[0].subnet)})`);
    }
    for (let j = 0; j < i; j++) {
      if (rangesOverlap(set[i], set[j])) {
        throw invalidConfig(`${field}[${i}]`, rangeString(set[i]), `overlaps ${field}[${j}] ${rangeString(set[j])}`);
      }
    }
  }
  return Object.freeze(set);
}

function parseRoutes(raw: unknown): Route[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidConfig('ipam.routes', raw, 'must be a list of routes');
  return raw.map((r, i) => {
    const field = `ipam.routes[${i}]`;
    if (!isObj(r)) throw invalidConfig(field, r, 'a route must be an object with dst');
    const dst = typeof r.dst === 'string' ? parseCidr(r.dst) : undefined;
    if (!dst) throw invalidConfig(`${field}.dst`, r.dst ?? null, 'not a CIDR');
    const route: Route = { dst: `${formatIp(dst.ip)}/${dst.prefix}` };
    if (r.gw !== undefined && r.gw !== null && r.gw !== '') route.gw = formatIp(ipField(r.gw, `${field}.gw`));
    for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
      if (r[k] === undefined || r[k] === null) continue;
      if (!Number.isInteger(r[k])) throw invalidConfig(`${field}.${k}`, r[k], 'must be an integer');
      route[k] = r[k] as number;
    }
    return route;
  });
}

function requestedFrom(list: unknown, field: string, out: RequestedIp[]): void {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw invalidConfig(field, list, 'must be a list of IP addresses');
  list.forEach((v, i) => {
    const ip = typeof v === 'string' ? (parseIp(v) ?? parseCidr(v)?.ip) : undefined;
    if (!ip) throw invalidConfig(`${field}[${i}]`, v, 'not an IP address');
    out.push({ ip, field: `${field}[${i}]` });
  });
}

/** Requested addresses from CNI_ARGS IP=, args.cni.ips and runtimeConfig.ips, merged and de-duplicated as the reference does. */
export function parseRequested(conf: Obj, cniArgs: string): RequestedIp[] {
  const all: RequestedIp[] = [];
  const envIp = parseCniArgs(cniArgs, ['IP', 'MAC']).get('IP');
  if (envIp) {
    for (const item of envIp.split(',')) {
      const s = item.trim();
      const ip = parseIp(s);
      if (!ip) throw new CniError(Code.InvalidEnv, `invalid CNI_ARGS IP ${JSON.stringify(s)}: not an IP address`);
      all.push({ ip, field: 'CNI_ARGS IP' });
    }
  }
  const args = isObj(conf.args) && isObj(conf.args.cni) ? conf.args.cni : undefined;
  requestedFrom(args?.ips, 'args.cni.ips', all);
  const rc = isObj(conf.runtimeConfig) ? conf.runtimeConfig : undefined;
  requestedFrom(rc?.ips, 'runtimeConfig.ips', all);
  const seen = new Set<string>();
  return all.filter((r) => {
    const k = `${r.ip.family}/${r.ip.n}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The whole config for ADD, CHECK and STATUS. Every failure is code 7 naming the field and value (code 1 for a version that cannot carry the result). */
export function parseIpamConfig(conf: Obj, version: string, cniArgs = ''): IpamConfig {
  const store = parseStoreConfig(conf);
  const ipam = ipamOf(conf);
  const sets: RangeSet[] = [];
  const rc = isObj(conf.runtimeConfig) ? conf.runtimeConfig : undefined;
  if (rc?.ipRanges !== undefined && rc.ipRanges !== null) {
    if (!Array.isArray(rc.ipRanges)) throw invalidConfig('runtimeConfig.ipRanges', rc.ipRanges, 'must be a list of range sets');
    rc.ipRanges.forEach((s, i) => sets.push(parseRangeSet(s, `runtimeConfig.ipRanges[${i}]`)));
  }
  if (ipam.subnet !== undefined && ipam.subnet !== null && ipam.subnet !== '') {
    sets.push(Object.freeze([parseRange({ subnet: ipam.subnet, rangeStart: ipam.rangeStart, rangeEnd: ipam.rangeEnd, gateway: ipam.gateway }, 'ipam')]));
  }
  if (ipam.ranges !== undefined && ipam.ranges !== null) {
    if (!Array.isArray(ipam.ranges)) throw invalidConfig('ipam.ranges', ipam.ranges, 'must be a list of range sets');
    ipam.ranges.forEach((s, i) => sets.push(parseRangeSet(s, `ipam.ranges[${i}]`)));
  }
  if (sets.length === 0) throw new CniError(Code.InvalidConfig, 'invalid ipam: no IP ranges specified (set ipam.ranges or ipam.subnet)');
  const v4 = sets.filter((s) => s[0].subnet.ip.family === 4).length;
  if ((v4 > 1 || sets.length - v4 > 1) && !atLeast(version, '0.3.0')) {
    throw new CniError(Code.IncompatibleVersion, `CNI version ${version} does not support more than 1 address per family (${v4} IPv4 and ${sets.length - v4} IPv6 range sets); use 0.3.0 or later`);
  }
  for (let i = 0; i < sets.length; i++) {
    for (let j = 0; j < i; j++) {
      for (const a of sets[i]) {
        const b = sets[j].find((r) => rangesOverlap(a, r));
        if (b) throw invalidConfig(`range set ${i}`, setString(sets[i]), `overlaps range set ${j} (${rangeString(b)})`);
      }
    }
  }
  const requested = parseRequested(conf, cniArgs);
  for (const r of requested) {
    const set = sets.find((s) => setContains(s, r.ip));
    const range = set?.find((x) => rangeContains(x, r.ip));
    if (range && range.gateway.n === r.ip.n) {
      throw invalidConfig(r.field, formatIp(r.ip), `is the gateway of range ${rangeString(range)}; it is never handed out`);
    }
  }
  if (ipam.resolvConf !== undefined && ipam.resolvConf !== null && ipam.resolvConf !== '' && typeof ipam.resolvConf !== 'string') {
    throw invalidConfig('ipam.resolvConf', ipam.resolvConf, 'must be a path');
  }
  return Object.freeze({
    ...store,
    rangeSets: Object.freeze(sets),
    requested: Object.freeze(requested),
    routes: Object.freeze(parseRoutes(ipam.routes)),
    resolvConf: typeof ipam.resolvConf === 'string' && ipam.resolvConf !== '' ? ipam.resolvConf : undefined,
  });
}
