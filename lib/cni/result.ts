// CNI results: one canonical (1.1.0) shape, parsed from and printed as any spec version.

import { CniError, Code } from './errors.ts';
import { atLeast } from './version.ts';

export interface Interface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

export interface IPConfig {
  address: string; // CIDR, host address with the subnet's prefix
  gateway?: string;
  interface?: number;
}

export interface Route {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface DNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface Result {
  interfaces?: Interface[];
  ips?: IPConfig[];
  routes?: Route[];
  dns?: DNS;
}

export function isIPv4Cidr(cidr: string): boolean {
  return !cidr.includes(':');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new CniError(Code.InvalidConfig, `invalid prevResult: ${where} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function optStr(v: unknown, where: string): string | undefined {
  return v === undefined || v === null || v === '' ? undefined : str(v, where);
}

function optNum(v: unknown, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new CniError(Code.InvalidConfig, `invalid prevResult: ${where} must be an integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optStrList(v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new CniError(Code.InvalidConfig, `invalid prevResult: ${where} must be a list of strings`);
  return v.map((s, i) => str(s, `${where}[${i}]`));
}

function parseRoute(r: unknown, where: string): Route {
  if (!isObject(r)) throw new CniError(Code.InvalidConfig, `invalid prevResult: ${where} must be an object`);
  const route: Route = { dst: str(r.dst, `${where}.dst`) };
  const gw = optStr(r.gw, `${where}.gw`);
  if (gw) route.gw = gw;
  for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
    const n = optNum(r[k], `${where}.${k}`);
    if (n !== undefined) route[k] = n;
  }
  return route;
}

export function parseDNS(d: unknown, where = 'dns'): DNS | undefined {
  if (d === undefined || d === null) return undefined;
  if (!isObject(d)) throw new CniError(Code.InvalidConfig, `invalid ${where}: must be an object`);
  const dns: DNS = {};
  const ns = optStrList(d.nameservers, `${where}.nameservers`);
  if (ns?.length) dns.nameservers = ns;
  const domain = optStr(d.domain, `${where}.domain`);
  if (domain) dns.domain = domain;
  const search = optStrList(d.search, `${where}.search`);
  if (search?.length) dns.search = search;
  const options = optStrList(d.options, `${where}.options`);
  if (options?.length) dns.options = options;
  return dns;
}

/** Parses a result of any version (the ip4/ip6 form of 0.1/0.2 included) into the canonical shape. */
export function parseResult(raw: unknown, where = 'prevResult'): Result {
  if (!isObject(raw)) throw new CniError(Code.InvalidConfig, `invalid ${where}: must be a JSON object, got ${JSON.stringify(raw)}`);
  const result: Result = {};
  if ('ip4' in raw || 'ip6' in raw) {
    const ips: IPConfig[] = [];
    const routes: Route[] = [];
    for (const fam of ['ip4', 'ip6'] as const) {
      const block = raw[fam];
      if (block === undefined || block === null) continue;
      if (!isObject(block)) throw new CniError(Code.InvalidConfig, `invalid ${where}: ${fam} must be an object`);
      const ip: IPConfig = { address: str(block.ip, `${where}.${fam}.ip`) };
      const gw = optStr(block.gateway, `${where}.${fam}.gateway`);
      if (gw) ip.gateway = gw;
      ips.push(ip);
      if (Array.isArray(block.routes)) block.routes.forEach((r, i) => routes.push(parseRoute(r, `${where}.${fam}.routes[${i}]`)));
    }
    if (ips.length) result.ips = ips;
    if (routes.length) result.routes = routes;
  } else {
    if (raw.interfaces !== undefined && raw.interfaces !== null) {
      if (!Array.isArray(raw.interfaces)) throw new CniError(Code.InvalidConfig, `invalid ${where}: interfaces must be a list`);
      result.interfaces = raw.interfaces.map((i, n) => {
        if (!isObject(i)) throw new CniError(Code.InvalidConfig, `invalid ${where}: interfaces[${n}] must be an object`);
        const iface: Interface = { name: str(i.name, `${where}.interfaces[${n}].name`) };
        const mac = optStr(i.mac, `${where}.interfaces[${n}].mac`);
        if (mac) iface.mac = mac;
        const mtu = optNum(i.mtu, `${where}.interfaces[${n}].mtu`);
        if (mtu) iface.mtu = mtu;
        const sandbox = optStr(i.sandbox, `${where}.interfaces[${n}].sandbox`);
        if (sandbox) iface.sandbox = sandbox;
        const socketPath = optStr(i.socketPath, `${where}.interfaces[${n}].socketPath`);
        if (socketPath) iface.socketPath = socketPath;
        const pciID = optStr(i.pciID, `${where}.interfaces[${n}].pciID`);
        if (pciID) iface.pciID = pciID;
        return iface;
      });
    }
    if (raw.ips !== undefined && raw.ips !== null) {
      if (!Array.isArray(raw.ips)) throw new CniError(Code.InvalidConfig, `invalid ${where}: ips must be a list`);
      result.ips = raw.ips.map((ip, n) => {
        if (!isObject(ip)) throw new CniError(Code.InvalidConfig, `invalid ${where}: ips[${n}] must be an object`);
        const out: IPConfig = { address: str(ip.address, `${where}.ips[${n}].address`) };
        const gw = optStr(ip.gateway, `${where}.ips[${n}].gateway`);
        if (gw) out.gateway = gw;
        const idx = optNum(ip.interface, `${where}.ips[${n}].interface`);
        if (idx !== undefined) out.interface = idx;
        return out;
      });
    }
    if (raw.routes !== undefined && raw.routes !== null) {
      if (!Array.isArray(raw.routes)) throw new CniError(Code.InvalidConfig, `invalid ${where}: routes must be a list`);
      result.routes = raw.routes.map((r, n) => parseRoute(r, `${where}.routes[${n}]`));
    }
  }
  const dns = parseDNS(raw.dns, `${where}.dns`);
  if (dns) result.dns = dns;
  return result;
}

function dnsOut(dns: DNS | undefined): DNS | undefined {
  if (!dns) return undefined;
  const out: DNS = {};
  if (dns.nameservers?.length) out.nameservers = dns.nameservers;
  if (dns.domain) out.domain = dns.domain;
  if (dns.search?.length) out.search = dns.search;
  if (dns.options?.length) out.options = dns.options;
  return Object.keys(out).length ? out : undefined;
}

function routeOut(r: Route, v11: boolean): Route {
  const out: Route = { dst: r.dst };
  if (r.gw) out.gw = r.gw;
  if (v11) for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) if (r[k] !== undefined) out[k] = r[k];
  return out;
}

/** Prints a canonical result in the exact shape of `version`. Empty fields are left out, as libcni does. */
export function formatResult(result: Result, version: string): Record<string, unknown> {
  const out: Record<string, unknown> = { cniVersion: version };
  if (!atLeast(version, '0.3.0')) {
    for (const [fam, v4] of [['ip4', true], ['ip6', false]] as const) {
      const ip = result.ips?.find((i) => isIPv4Cidr(i.address) === v4);
      if (!ip) continue;
      const block: Record<string, unknown> = { ip: ip.address };
      if (ip.gateway) block.gateway = ip.gateway;
      const routes = (result.routes ?? []).filter((r) => isIPv4Cidr(r.dst) === v4).map((r) => routeOut(r, false));
      if (routes.length) block.routes = routes;
      out[fam] = block;
    }
    const dns = dnsOut(result.dns);
    if (dns) out.dns = dns;
    return out;
  }
  const v11 = atLeast(version, '1.1.0');
  const withIPVersion = !atLeast(version, '1.0.0');
  if (result.interfaces?.length) {
    out.interfaces = result.interfaces.map((i) => {
      const o: Interface = { name: i.name };
      if (i.mac) o.mac = i.mac;
      if (v11 && i.mtu) o.mtu = i.mtu;
      if (i.sandbox) o.sandbox = i.sandbox;
      if (v11 && i.socketPath) o.socketPath = i.socketPath;
      if (v11 && i.pciID) o.pciID = i.pciID;
      return o;
    });
  }
  if (result.ips?.length) {
    out.ips = result.ips.map((ip) => {
      const o: Record<string, unknown> = {};
      if (withIPVersion) o.version = isIPv4Cidr(ip.address) ? '4' : '6';
      if (ip.interface !== undefined) o.interface = ip.interface;
      o.address = ip.address;
      if (ip.gateway) o.gateway = ip.gateway;
      return o;
    });
  }
  if (result.routes?.length) out.routes = result.routes.map((r) => routeOut(r, v11));
  const dns = dnsOut(result.dns);
  if (dns) out.dns = dns;
  return out;
}

/** 0.1.0/0.2.0 results carry at most one address per family; more needs 0.3.0 (as host-local says). */
export function checkResultFitsVersion(result: Result, version: string): void {
  if (atLeast(version, '0.3.0')) return;
  const v4 = result.ips?.filter((i) => isIPv4Cidr(i.address)).length ?? 0;
  const v6 = (result.ips?.length ?? 0) - v4;
  if (v4 > 1 || v6 > 1) {
    throw new CniError(Code.IncompatibleVersion, `cniVersion ${version} cannot carry more than one address per family; use 0.3.0 or later`);
  }
}
