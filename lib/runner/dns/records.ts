// What a network's resolver answers, from the container store (pure): every live container's attachments (its
// first network and the connected ones; IPv4 and, dual stack, IPv6) with the names they answer to — the container name, its --network-alias
// aliases (on the first network; `connect --alias` ones on theirs), the 12-digit id and the full id. A query is answered from the networks the asking
// container shares with the named one, so two containers resolve each other only across a common network.

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

/** IPv4 only: whether `ip` is inside `cidr`. */
export function inSubnet(ip: string, cidr: string): boolean {
  const [net, lenS] = cidr.split('/');
  const n = (a: string) => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !/^\d+\.\d+\.\d+\.\d+$/.test(net)) return false;
  const len = Number(lenS);
  const size = 2 ** (32 - len);
  return Math.floor(n(ip) / size) === Math.floor(n(net) / size);
}

/** The subnet (network address/len) of an IPv4 address with its prefix length. */
export function subnetOf(ip: string, len: number): string {
  const v = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - len);
  const base = Math.floor(v / size) * size;
  return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.')}/${len}`;
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
