// What a network's resolver answers, from the container store (pure): every live container's attachments (its
// first network and the connected ones; IPv4 and, dual stack, IPv6) with the names they answer to — the container name, its --network-alias
// aliases (on the first network; `connect --alias` ones on theirs), the 12-digit id and the full id. A query is answered from the networks the asking
// container shares with the named one, so two containers resolve each other only across a common network.

import ipaddr from 'ipaddr.js';
import type { ContainerState, NetworkSettings } from '../container/store.ts';

export interface Attachment {
  network: string;
  /** IPv4 first, then the IPv6 address of a dual-stack attachment. */
  ips: string[];
  names: string[];
  container: string;
}

const addrs = (s: NetworkSettings) => [s.IPAddress, ...(s.GlobalIPv6Address ? [s.GlobalIPv6Address] : [])];

export function attachmentsOf(c: ContainerState): Attachment[] {
  const out: Attachment[] = [];
  const base = [c.name, c.id.slice(0, 12), c.id].map((n) => n.toLowerCase());
  if (!c.network.includes(':') && c.networkSettings?.IPAddress) {
    out.push({ network: c.network, ips: addrs(c.networkSettings), names: [...base, ...(c.aliases ?? []).map((a) => a.toLowerCase())], container: c.id });
  }
  for (const e of c.extraNetworks ?? []) if (e.settings?.IPAddress) out.push({ network: e.network, ips: addrs(e.settings), names: [...base, ...(e.aliases ?? []).map((a) => a.toLowerCase())], container: c.id });
  return out;
}

/** Whether `ip` is inside `cidr` (same family only; an IPv4-mapped IPv6 address counts as its IPv4 one). */
export function inSubnet(ip: string, cidr: string): boolean {
  try {
    let a = ipaddr.parse(ip);
    if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
    const range = ipaddr.parseCIDR(cidr);
    return a.kind() === range[0].kind() && a.match(range);
  } catch {
    return false;
  }
}

/** The subnet (network address/len) of an address with its prefix length, either family. */
export function subnetOf(ip: string, len: number): string {
  const net = ipaddr.parse(ip).kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${ip}/${len}`) : ipaddr.IPv6.networkAddressFromCIDR(`${ip}/${len}`);
  return `${net.toString()}/${len}`;
}

/**
 * Where a network's resolver listens for a container with this CNI result: the IPv4 gateway, then (dual stack)
 * the IPv6 one, each with its subnet (the clients it serves). Empty without an IPv4 gateway.
 */
export function resolverEndpoints(result: Record<string, unknown> | undefined): { gateways: string[]; cidrs: string[] } {
  const ips = (result?.ips as { address: string; gateway?: string }[] | undefined) ?? [];
  const v4 = ips.find((i) => i.gateway && !i.address.includes(':'));
  if (!v4) return { gateways: [], cidrs: [] };
  const v6 = ips.find((i) => i.gateway && i.address.includes(':'));
  const cidr = (i: { address: string }) => subnetOf(i.address.split('/')[0], Number(i.address.split('/')[1]));
  return { gateways: [v4.gateway!, ...(v6 ? [v6.gateway!] : [])], cidrs: [cidr(v4), ...(v6 ? [cidr(v6)] : [])] };
}

/**
 * The addresses `name` has for a client at `clientIp` asking the resolver of `network`: the networks searched are
 * those of the client's container (only `network` when the client is not a known container), limited to
 * `dnsNetworks`; the answer on `network` comes first. Undefined: not a local name (forward it upstream).
 */
export function lookup(atts: readonly Attachment[], network: string, clientIp: string, name: string, dnsNetworks: ReadonlySet<string>): string[] | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  const client = atts.find((a) => a.network === network && a.ips.includes(clientIp));
  const nets = new Set(client ? atts.filter((a) => a.container === client.container).map((a) => a.network) : [network]);
  const hits = atts.filter((a) => nets.has(a.network) && dnsNetworks.has(a.network) && a.names.includes(n));
  if (hits.length === 0) return undefined;
  hits.sort((a, b) => Number(b.network === network) - Number(a.network === network));
  return [...new Set(hits.flatMap((h) => h.ips))];
}

/** resolverEndpoints from a stored attachment (docker's NetworkSettings): empty without an IPv4 gateway. */
export function endpointsOf(s: NetworkSettings | undefined): { gateways: string[]; cidrs: string[] } {
  if (!s?.Gateway || s.Gateway.includes(':') || !s.IPAddress || s.IPAddress.includes(':')) return { gateways: [], cidrs: [] };
  const v6 = s.IPv6Gateway && s.GlobalIPv6Address && s.GlobalIPv6PrefixLen ? [s.IPv6Gateway, subnetOf(s.GlobalIPv6Address, s.GlobalIPv6PrefixLen)] : undefined;
  return { gateways: [s.Gateway, ...(v6 ? [v6[0]] : [])], cidrs: [subnetOf(s.IPAddress, s.IPPrefixLen), ...(v6 ? [v6[1]] : [])] };
}

/**
 * The nameservers of a container's resolv.conf: the resolver of its first attachment (first network, then the
 * connected ones in order) that has one running, listed once, as docker lists its embedded DNS once: that resolver
 * answers for every network the asker shares with the named container. Empty: the host's resolvers.
 */
export function nameserversFor(atts: readonly { network: string; settings?: NetworkSettings }[], hasResolver: (net: string) => boolean): string[] {
  for (const a of atts) {
    const at = endpointsOf(a.settings);
    if (at.gateways.length && hasResolver(a.network)) return at.gateways;
  }
  return [];
}
