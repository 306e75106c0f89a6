// What makes a subnet unfit for containers and an address unfit as one of its hosts: the checks host-local (and
// so bridge's in-process IPAM) applies to every range before any address is handed out.

import { cidrContains, formatCidr, lastOf, networkOf, parseCidr, type Cidr, type Ip } from './ip.ts';

// Blocks no container subnet may touch (RFC 6890): their addresses never route to a container.
const RESERVED: readonly { cidr: Cidr; what: string }[] = [
  ['0.0.0.0/8', '"this network"'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved, with the broadcast address 255.255.255.255'],
  ['::/128', 'the unspecified address'],
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
].map(([c, what]) => ({ cidr: parseCidr(c)!, what }));

/** Why a subnet cannot serve containers (it touches a reserved block), or undefined. */
export function subnetProblem(subnet: Cidr): string | undefined {
  for (const b of RESERVED) {
    if (b.cidr.ip.family !== subnet.ip.family) continue;
    if (subnet.prefix >= b.cidr.prefix && cidrContains(b.cidr, subnet.ip)) return `is inside ${formatCidr(b.cidr)} (${b.what}); a container subnet must be routable unicast`;
    if (cidrContains(subnet, b.cidr.ip)) return `covers ${formatCidr(b.cidr)} (${b.what}); a container subnet must be routable unicast`;
  }
  return undefined;
}

/** Why `ip` cannot be a host of `subnet` (outside it, its network address, its IPv4 broadcast), or undefined. */
export function hostProblem(subnet: Cidr, ip: Ip): string | undefined {
  if (!cidrContains(subnet, ip)) return `not in network ${formatCidr(subnet)}`;
  if (ip.n === networkOf(subnet).n) return `is the network address of ${formatCidr(subnet)}`;
  if (ip.family === 4 && ip.n === lastOf(subnet).n) return `is the broadcast address of ${formatCidr(subnet)}`;
  return undefined;
}
