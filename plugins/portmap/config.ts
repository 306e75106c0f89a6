// portmap config (pure): validates the plugin keys, runtimeConfig.portMappings and the container addresses of prevResult.

import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { CniError, Code, invalidConfig, unsupportedField } from '../../lib/cni/errors.ts';
import type { Result } from '../../lib/cni/result.ts';
import { conditionsOf, type Conditions } from './conditions.ts';

export type Protocol = 'tcp' | 'udp' | 'sctp';
export type Family = 4 | 6;

/** One requested mapping; hostIP is normalised, undefined means every address of both families. */
export interface PortMapping {
  readonly index: number;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: Protocol;
  readonly hostIP?: string;
}

export interface PortmapConfig {
  readonly network: string;
  readonly snat: boolean;
  readonly masqAll: boolean;
  readonly mappings: readonly PortMapping[];
  /** Extra matches for this network's mappings, which then live in their own chain and maps. */
  readonly conditions?: Conditions;
}

/** A container address from prevResult: the host address and its subnet. */
export interface ContainerAddr {
  readonly family: Family;
  readonly address: string;
  readonly subnet: string;
  readonly prefixLen: number;
}

const PROTOCOLS: readonly string[] = ['tcp', 'udp', 'sctp'];
const ALLOWED_BACKENDS = ['nftables'];

function port(v: unknown, index: number, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw invalidConfig(`portMappings[${index}].${field}`, v, 'must be an integer 1-65535');
  }
  return v;
}

const MAPPING_KEYS = ['hostPort', 'containerPort', 'protocol', 'hostIP'] as const;

/**
 * Reads a mapping's keys the way Go's encoding/json does for the reference: an exact match first, then any
 * case. containerd 1.6 (go-cni) sends `{"HostPort":..,"ContainerPort":..,"Protocol":..,"HostIP":""}`.
 */
function mappingFields(raw: Record<string, unknown>): Partial<Record<(typeof MAPPING_KEYS)[number], unknown>> {
  const out: Partial<Record<(typeof MAPPING_KEYS)[number], unknown>> = {};
  for (const key of MAPPING_KEYS) {
    if (key in raw) out[key] = raw[key];
    else {
      const other = Object.keys(raw).find((k) => k.toLowerCase() === key.toLowerCase());
      if (other !== undefined) out[key] = raw[other];
    }
  }
  return out;
}

function parseMapping(raw: unknown, index: number): PortMapping {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidConfig(`portMappings[${index}]`, raw, 'must be an object');
  const m = mappingFields(raw as Record<string, unknown>);
  if (m.containerPort === undefined) throw new CniError(Code.InvalidConfig, `invalid portMappings[${index}]: containerPort is missing`);
  if (m.hostPort === undefined) throw new CniError(Code.InvalidConfig, `invalid portMappings[${index}]: hostPort is missing`);
  const hostPort = port(m.hostPort, index, 'hostPort');
  const containerPort = port(m.containerPort, index, 'containerPort');
  const proto = m.protocol === undefined || m.protocol === '' ? 'tcp' : m.protocol;
  if (typeof proto !== 'string' || !PROTOCOLS.includes(proto.toLowerCase())) {
    throw invalidConfig(`portMappings[${index}].protocol`, m.protocol, 'must be tcp, udp or sctp');
  }
  let hostIP: string | undefined;
  if (m.hostIP !== undefined && m.hostIP !== '') {
    if (typeof m.hostIP !== 'string' || !(isIPv4(m.hostIP) || isIPv6(m.hostIP))) {
      throw invalidConfig(`portMappings[${index}].hostIP`, m.hostIP, 'must be an IPv4 or IPv6 address');
    }
    // 0.0.0.0 and :: keep their family: they mean "every address of that family", and the other family is skipped.
    hostIP = ipaddr.parse(m.hostIP).toString();
    // A DNAT of ::1 sends the SYN, but the kernel drops the answer addressed to ::1 arriving on the bridge (IPv6 has
    // no route_localnet; RFC 4291): refused rather than published unreachable.
    if (hostIP === '::1') {
      throw unsupportedField(`portMappings[${index}].hostIP`, m.hostIP, 'the kernel cannot DNAT IPv6 loopback (no route_localnet for IPv6): publish on 127.0.0.1, or use a userland proxy on [::1] (tscni run -p [::1]:PORT:PORT does)');
    }
  }
  return Object.freeze({ index, hostPort, containerPort, protocol: proto.toLowerCase() as Protocol, hostIP });
}

export function isWildcard(hostIP: string | undefined): boolean {
  return hostIP === undefined || hostIP === '0.0.0.0' || hostIP === '::';
}

export function familyOf(addr: string): Family {
  return addr.includes(':') ? 6 : 4;
}

/** Whether a mapping applies to a family: no hostIP means both, otherwise only the hostIP's family. */
export function appliesTo(m: PortMapping, family: Family): boolean {
  return m.hostIP === undefined || familyOf(m.hostIP) === family;
}

function bool(conf: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = conf[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw invalidConfig(key, v, 'must be true or false');
  return v;
}

function conditionTokens(conf: Record<string, unknown>, key: string): string[] {
  const v = conf[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw invalidConfig(key, v, 'must be a list of nftables match tokens');
  if (v.length && /^[-!]/.test(v[0] as string)) {
    throw unsupportedField(key, v, 'iptables syntax (a first token starting with "-" or "!") needs the iptables backend, which tscni does not have; write nftables matches instead');
  }
  return v as string[];
}

/** Parses the whole config into a frozen value; every bad field is code 2 or 7 naming field and value. */
export function parseConfig(conf: Record<string, unknown>): PortmapConfig {
  const backend = conf.backend;
  if (backend !== undefined && backend !== null && backend !== '') {
    if (backend === 'iptables') throw unsupportedField('backend', backend, 'tscni portmap uses nftables only (one table, inet tscni_portmap); remove "backend" or set it to "nftables"');
    if (!ALLOWED_BACKENDS.includes(backend as string)) throw invalidConfig('backend', backend, 'must be "nftables"');
  }
  for (const key of ['markMasqBit', 'externalSetMarkChain']) {
    if (conf[key] !== undefined && conf[key] !== null) {
      throw unsupportedField(key, conf[key], 'is an iptables-backend option; tscni portmap uses nftables, where hairpin and localhost masquerade need no packet mark');
    }
  }
  const conditions = conditionsOf(conditionTokens(conf, 'conditionsV4'), conditionTokens(conf, 'conditionsV6'));
  const snat = bool(conf, 'snat', true);
  const masqAll = bool(conf, 'masqAll', false);
  const rc = conf.runtimeConfig;
  let raw: unknown = undefined;
  if (rc !== undefined && rc !== null) {
    if (typeof rc !== 'object' || Array.isArray(rc)) throw invalidConfig('runtimeConfig', rc, 'must be an object');
    raw = (rc as Record<string, unknown>).portMappings;
  }
  let mappings: PortMapping[] = [];
  if (raw !== undefined && raw !== null) {
    if (!Array.isArray(raw)) throw invalidConfig('runtimeConfig.portMappings', raw, 'must be a list');
    mappings = raw.map(parseMapping);
  }
  checkSelfOverlap(mappings);
  return Object.freeze({ network: String(conf.name), snat, masqAll, mappings: Object.freeze(mappings), ...(conditions ? { conditions } : {}) });
}

/** Two mappings of one request that claim the same (protocol, hostPort) on overlapping hostIPs are a config error. */
function checkSelfOverlap(ms: readonly PortMapping[]): void {
  for (const b of ms) {
    for (const a of ms) {
      if (a.index >= b.index) break;
      if (a.protocol !== b.protocol || a.hostPort !== b.hostPort) continue;
      if (overlaps(a.hostIP, b.hostIP)) {
        throw new CniError(Code.InvalidConfig, `invalid portMappings[${b.index}]: ${describe(b)} overlaps portMappings[${a.index}] (${describe(a)})`);
      }
    }
  }
}

/** Whether two hostIPs (undefined = both families) can receive the same packet. */
export function overlaps(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  if (familyOf(a) !== familyOf(b)) return false;
  return isWildcard(a) || isWildcard(b) || a === b;
}

/** Docker's way of naming a published port: `tcp 0.0.0.0:8080`, `udp [::1]:53`. */
export function describe(m: { protocol: string; hostIP?: string; hostPort: number }, family?: Family): string {
  const ip = m.hostIP ?? (family === 6 ? '::' : '0.0.0.0');
  return `${m.protocol} ${ip.includes(':') ? `[${ip}]` : ip}:${m.hostPort}`;
}

/**
 * The container addresses to publish to: the first IPv4 and first IPv6 of prevResult whose interface is CNI_IFNAME
 * inside a sandbox (entries without an interface index are accepted), as the reference does.
 */
export function containerAddrs(prev: Result | undefined, ifname: string): ContainerAddr[] {
  if (!prev) throw new CniError(Code.InvalidConfig, 'portmap must be called as a chained plugin: prevResult is missing');
  const out: ContainerAddr[] = [];
  for (const ip of prev.ips ?? []) {
    if (ip.interface !== undefined) {
      const iface = prev.interfaces?.[ip.interface];
      if (!iface || iface.name !== ifname || !iface.sandbox) continue;
    }
    let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      parsed = ipaddr.parseCIDR(ip.address);
    } catch {
      throw invalidConfig('prevResult ips address', ip.address, 'must be an address in CIDR form');
    }
    const family: Family = parsed[0].kind() === 'ipv4' ? 4 : 6;
    if (out.some((a) => a.family === family)) continue;
    const subnet = ipaddr.IPv4.isValid(parsed[0].toString()) && family === 4
      ? ipaddr.IPv4.networkAddressFromCIDR(ip.address).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(ip.address).toString();
    out.push({ family, address: parsed[0].toString(), subnet, prefixLen: parsed[1] });
  }
  if (out.length === 0) {
    throw new CniError(Code.InvalidConfig, `invalid prevResult: no IP address on interface ${JSON.stringify(ifname)} in a sandbox (ips ${JSON.stringify((prev.ips ?? []).map((i) => i.address))})`);
  }
  return out;
}
