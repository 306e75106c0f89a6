// IP addresses and prefixes for every plugin. Roles: ipaddr.js reads and writes text (validation, canonical form,
// bytes); the prefix maths (network, last address, containment, network + 1) is BigInt arithmetic here, so IPv4 and
// IPv6 share one code path. ip-address is not loaded here on purpose: it costs about 10 ms to load under Bun (measured
// here: more than a plugin's whole start-up), so it serves the runner's subnet relations only (lib/net/subnets.ts).

import ipaddr from 'ipaddr.js';
import { CniError, Code } from '../cni/errors.ts';

export type Family = 4 | 6;

/** An address as (family, value): what the allocator counts with. */
export interface Ip {
  readonly family: Family;
  readonly n: bigint;
}

/** An address with a prefix length, as values. The address may have host bits set. */
export interface Cidr {
  readonly ip: Ip;
  readonly prefix: number;
}

/** An address with a prefix length, as canonical text (`10.1.0.5`, 24): what kernel calls and nft JSON take. */
export interface Prefixed {
  readonly ip: string;
  readonly prefixLen: number;
  readonly v6: boolean;
}

const V4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export const bits = (f: Family): number => (f === 4 ? 32 : 128);

function bytesToBig(bytes: readonly number[]): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function bigToBytes(n: bigint, len: number): number[] {
  const bytes = new Array<number>(len);
  for (let i = len - 1; i >= 0; i--) {
    bytes[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return bytes;
}

/** Parses an IP like Go's net.ParseIP: dotted quad without leading zeros, or IPv6 (IPv4-mapped becomes IPv4). */
export function parseIp(s: string): Ip | undefined {
  if (typeof s !== 'string') return undefined;
  if (V4_RE.test(s)) return { family: 4, n: bytesToBig(s.split('.').map(Number)) };
  if (!s.includes(':') || !ipaddr.IPv6.isValid(s) || s.includes('%')) return undefined;
  const a = ipaddr.IPv6.parse(s);
  if (a.isIPv4MappedAddress()) return { family: 4, n: bytesToBig(a.toIPv4Address().toByteArray()) };
  return { family: 6, n: bytesToBig(a.toByteArray()) };
}

/** Parses "ip/prefix" strictly (no leading zeros in the prefix). */
export function parseCidr(s: string): Cidr | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (!ip || !/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
  const prefix = Number(p);
  if (prefix > bits(ip.family)) return undefined;
  return { ip, prefix };
}

export function formatIp(ip: Ip): string {
  return ipaddr.fromByteArray(bigToBytes(ip.n, ip.family === 4 ? 4 : 16)).toString();
}

export const formatCidr = (c: Cidr): string => `${formatIp(c.ip)}/${c.prefix}`;

export function hostMask(c: Cidr): bigint {
  return (1n << BigInt(bits(c.ip.family) - c.prefix)) - 1n;
}

export const networkOf = (c: Cidr): Ip => ({ family: c.ip.family, n: c.ip.n & ~hostMask(c) });
export const lastOf = (c: Cidr): Ip => ({ family: c.ip.family, n: c.ip.n | hostMask(c) });

export function cidrContains(c: Cidr, ip: Ip): boolean {
  return ip.family === c.ip.family && (ip.n & ~hostMask(c)) === (c.ip.n & ~hostMask(c));
}

export const ipEq = (a: Ip, b: Ip): boolean => a.family === b.family && a.n === b.n;

/** The number of leading one bits of a netmask value (`0xffffff00` → 24). */
export function maskLength(mask: bigint, family: Family): number {
  let len = 0;
  for (let bit = BigInt(bits(family) - 1); bit >= 0n && (mask >> bit) & 1n; bit--) len++;
  return len;
}

export const isIp = (s: string): boolean => ipaddr.isValid(s);

/** The canonical text of an address (`fd00:0::1` → `fd00::1`); throws on text that is not an address. */
export const canonicalIp = (s: string): string => ipaddr.parse(s).toString();

/** The address family ipaddr.js reads from text (an IPv4-mapped IPv6 address stays IPv6). */
export const familyOfText = (s: string): Family => (ipaddr.parse(s).kind() === 'ipv6' ? 6 : 4);

/** `address/prefix` as text, validated (code 7 naming `field`): the bridge's reading of IPAM results and routes. */
export function splitCidr(cidr: string, field = 'address'): Prefixed {
  const [ip, len, extra] = cidr.split('/');
  if (extra !== undefined || len === undefined || !ipaddr.isValid(ip) || !/^\d+$/.test(len)) throw new CniError(Code.InvalidConfig, `invalid ${field} ${JSON.stringify(cidr)}: must be address/prefix`);
  const v6 = familyOfText(ip) === 6;
  const prefixLen = Number(len);
  if (prefixLen > (v6 ? 128 : 32)) throw new CniError(Code.InvalidConfig, `invalid ${field} ${JSON.stringify(cidr)}: prefix too long`);
  return { ip: canonicalIp(ip), prefixLen, v6 };
}

/** Text to value keeping ipaddr.js's family (for prefix maths on already-canonical text). */
function valueOf(p: Prefixed): Cidr {
  return { ip: { family: p.v6 ? 6 : 4, n: bytesToBig(ipaddr.parse(p.ip).toByteArray()) }, prefix: p.prefixLen };
}

/** The subnet address of `p` as text (`10.1.2.3/24` → `10.1.2.0`). */
export const networkText = (p: Prefixed): string => formatIp(networkOf(valueOf(p)));

/** The first host address of the subnet (network + 1, wrapping within the family), the reference's default gateway. */
export function firstHost(p: Prefixed): string {
  const net = networkOf(valueOf(p));
  const max = (1n << BigInt(bits(net.family))) - 1n;
  return formatIp({ family: net.family, n: (net.n + 1n) & max });
}
