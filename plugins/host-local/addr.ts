// Address math for host-local: IPs as (family, BigInt) so IPv4 and IPv6 share one arithmetic, parsed strictly.

import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface Ip {
  readonly family: Family;
  readonly n: bigint;
}

export interface Cidr {
  readonly ip: Ip;
  readonly prefix: number;
}

const V4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export const bits = (f: Family): number => (f === 4 ? 32 : 128);

/** Parses an IP like Go's net.ParseIP: dotted quad without leading zeros, or IPv6 (IPv4-mapped becomes IPv4). */
export function parseIp(s: string): Ip | undefined {
  if (typeof s !== 'string') return undefined;
  if (V4_RE.test(s)) return { family: 4, n: bytesToBig(s.split('.').map(Number)) };
  if (!s.includes(':') || !ipaddr.IPv6.isValid(s) || s.includes('%')) return undefined;
  const a = ipaddr.IPv6.parse(s);
  if (a.isIPv4MappedAddress()) return { family: 4, n: bytesToBig(a.toIPv4Address().toByteArray()) };
  return { family: 6, n: bytesToBig(a.toByteArray()) };
}

/** Parses "ip/prefix". The address may have host bits set; callers decide whether that is allowed. */
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

function bytesToBig(bytes: number[]): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

export function formatIp(ip: Ip): string {
  const len = ip.family === 4 ? 4 : 16;
  const bytes = new Array<number>(len);
  let n = ip.n;
  for (let i = len - 1; i >= 0; i--) {
    bytes[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
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
