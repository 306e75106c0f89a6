// Relations between whole subnets, for the runner (`network create` refuses a subnet overlapping another network's).
// The split between the project's two IP libraries: ipaddr.js reads and writes address text everywhere (ip.ts), and
// ip-address models a subnet as a value with containment (`isInSubnet`), which is what this module needs. It stays
// out of ip.ts on purpose: plugins import ip.ts on every call, and ip-address costs ~10 ms to load under Bun.

import { Address4, Address6 } from 'ip-address';

function subnetOf(cidr: string): Address4 | Address6 | undefined {
  const withPrefix = cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`;
  try {
    return cidr.includes(':') ? new Address6(withPrefix) : new Address4(withPrefix);
  } catch {
    return undefined;
  }
}

/** Two subnets overlap when one contains the other (same family only); text that is no subnet overlaps nothing. */
export function subnetsOverlap(a: string, b: string): boolean {
  const x = subnetOf(a);
  const y = subnetOf(b);
  if (!x || !y || x.v4 !== y.v4) return false;
  return x.v4 ? (x as Address4).isInSubnet(y as Address4) || (y as Address4).isInSubnet(x as Address4)
    : (x as Address6).isInSubnet(y as Address6) || (y as Address6).isInSubnet(x as Address6);
}
