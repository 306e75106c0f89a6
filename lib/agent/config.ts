// The peers file, validated into a frozen internal value before the agent touches anything (pure). Every error names
// the field and its value, e.g. `peers[2].podCIDRs[0] "10.244.1.0/25" overlaps peers[0].podCIDRs[0] "10.244.1.0/24"`.

import ipaddr from 'ipaddr.js';
import { ifnameProblem } from '../cni/names.ts';

export type Backend = 'host-gw' | 'vxlan';
export interface Peer { readonly name: string; readonly addresses: readonly string[]; readonly podCIDRs: readonly string[]; readonly vxlanMAC?: string }
export interface VxlanOptions { readonly vni: number; readonly port: number; readonly device?: string; readonly mtu?: number }
export interface AgentConfig { readonly node: string; readonly backend: Backend; readonly vxlan: VxlanOptions; readonly peers: readonly Peer[] }

export const VXLAN_DEFAULTS = { vni: 1, port: 8472 } as const;

export class ConfigError extends Error {}

const q = (v: unknown) => JSON.stringify(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,62})$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function int(v: unknown, field: string, min: number, max: number): number {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw new ConfigError(`${field} ${q(v)}: must be an integer ${min}-${max}`);
  return v as number;
}

function address(v: unknown, field: string): string {
  if (typeof v !== 'string' || !ipaddr.isValid(v)) throw new ConfigError(`${field} ${q(v)}: not an IP address`);
  const a = ipaddr.parse(v);
  if (['unspecified', 'multicast', 'loopback', 'broadcast'].includes(a.range())) throw new ConfigError(`${field} ${q(v)}: a ${a.range()} address cannot be a node address`);
  return a.toString();
}

function podCidr(v: unknown, field: string): string {
  if (typeof v !== 'string' || !ipaddr.isValidCIDR(v)) throw new ConfigError(`${field} ${q(v)}: not a CIDR`);
  const [addr, len] = ipaddr.parseCIDR(v);
  const v6 = addr.kind() === 'ipv6';
  const max = v6 ? 126 : 30;
  if (len > max) throw new ConfigError(`${field} ${q(v)}: the prefix must be /${max} or shorter to hold pods`);
  const net = (v6 ? ipaddr.IPv6.networkAddressFromCIDR(v) : ipaddr.IPv4.networkAddressFromCIDR(v)).toString();
  if (net !== addr.toString()) throw new ConfigError(`${field} ${q(v)}: host bits set (the network is ${net}/${len})`);
  return `${net}/${len}`;
}

export function parsePeer(v: unknown, i: number): Peer {
  const f = `peers[${i}]`;
  if (!isObj(v)) throw new ConfigError(`${f} ${q(v)}: must be an object {name, address, podCIDRs}`);
  if (typeof v.name !== 'string' || !NAME_RE.test(v.name)) throw new ConfigError(`${f}.name ${q(v.name)}: must be 1-63 characters of A-Z a-z 0-9 _ . - starting with a letter or digit`);
  const rawAddrs = Array.isArray(v.address) ? v.address : [v.address];
  if (rawAddrs.length === 0) throw new ConfigError(`${f}.address []: every node needs an address`);
  const addresses = rawAddrs.map((a, j) => address(a, Array.isArray(v.address) ? `${f}.address[${j}]` : `${f}.address`));
  if (new Set(addresses.map((a) => a.includes(':'))).size !== addresses.length) throw new ConfigError(`${f}.address ${q(v.address)}: at most one address per family`);
  if (!Array.isArray(v.podCIDRs) || v.podCIDRs.length === 0) throw new ConfigError(`${f}.podCIDRs ${q(v.podCIDRs)}: node ${q(v.name)} needs a pod CIDR (one per family)`);
  const podCIDRs = v.podCIDRs.map((c, j) => podCidr(c, `${f}.podCIDRs[${j}]`));
  if (podCIDRs.length > 2 || new Set(podCIDRs.map((c) => c.includes(':'))).size !== podCIDRs.length) throw new ConfigError(`${f}.podCIDRs ${q(v.podCIDRs)}: at most one CIDR per family`);
  if (v.vxlanMAC !== undefined && (typeof v.vxlanMAC !== 'string' || !MAC_RE.test(v.vxlanMAC) || (parseInt(v.vxlanMAC.slice(0, 2), 16) & 1) === 1)) {
    throw new ConfigError(`${f}.vxlanMAC ${q(v.vxlanMAC)}: must be a unicast MAC like 0a:58:0a:f4:01:00 (lower case)`);
  }
  return Object.freeze({ name: v.name, addresses: Object.freeze(addresses), podCIDRs: Object.freeze(podCIDRs), ...(v.vxlanMAC ? { vxlanMAC: v.vxlanMAC as string } : {}) });
}

/** A CIDR as its first and last address, as numbers (for sorting and overlap tests). */
export function cidrRange(cidr: string): { v6: boolean; first: bigint; last: bigint } {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  const bits = addr.kind() === 'ipv6' ? 128 : 32;
  const first = addr.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
  return { v6: bits === 128, first, last: first + (1n << BigInt(bits - len)) - 1n };
}

/** Whether any two pod CIDRs share an address: sorted by first address, each compared with the furthest reach before it. */
function anyOverlap(peers: readonly Peer[]): boolean {
  const ranges = peers.flatMap((p) => p.podCIDRs.map(cidrRange)).sort((a, b) => (a.v6 !== b.v6 ? (a.v6 ? 1 : -1) : a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  for (let i = 1; i < ranges.length; i++) if (ranges[i].v6 === ranges[i - 1].v6 && ranges[i].first <= ranges[i - 1].last) return true;
  return false;
}

/**
 * Rejects two pod CIDRs that share an address, or two nodes with one address. The pairwise walk that words the
 * error (the first peer in file order that overlaps an earlier one) runs only when the sorted check found an overlap.
 */
function checkDisjoint(peers: readonly Peer[]): void {
  const overlap = anyOverlap(peers);
  const seen: { field: string; cidr: string; parsed: [ipaddr.IPv4 | ipaddr.IPv6, number] }[] = [];
  const addrs = new Map<string, string>();
  const names = new Map<string, number>();
  peers.forEach((p, i) => {
    if (names.has(p.name)) throw new ConfigError(`peers[${i}].name ${q(p.name)}: also the name of peers[${names.get(p.name)}]`);
    names.set(p.name, i);
    p.addresses.forEach((a) => {
      if (addrs.has(a)) throw new ConfigError(`peers[${i}].address ${q(a)}: also the address of ${addrs.get(a)}`);
      addrs.set(a, `peers[${i}] (${p.name})`);
    });
    if (!overlap) return;
    p.podCIDRs.forEach((c, j) => {
      const parsed = ipaddr.parseCIDR(c);
      for (const s of seen) {
        if (s.parsed[0].kind() !== parsed[0].kind()) continue;
        const shorter = Math.min(s.parsed[1], parsed[1]);
        if (parsed[0].match(s.parsed[0], shorter)) throw new ConfigError(`peers[${i}].podCIDRs[${j}] ${q(c)}: overlaps ${s.field} ${q(s.cidr)}`);
      }
      seen.push({ field: `peers[${i}].podCIDRs[${j}] (${p.name})`, cidr: c, parsed });
    });
  });
}

function parseVxlan(v: unknown): VxlanOptions {
  if (v === undefined) return VXLAN_DEFAULTS;
  if (!isObj(v)) throw new ConfigError(`vxlan ${q(v)}: must be an object {vni, port, device, mtu}`);
  const out: { vni: number; port: number; device?: string; mtu?: number } = {
    vni: v.vni === undefined ? VXLAN_DEFAULTS.vni : int(v.vni, 'vxlan.vni', 1, 16777215),
    port: v.port === undefined ? VXLAN_DEFAULTS.port : int(v.port, 'vxlan.port', 1, 65535),
  };
  if (v.device !== undefined) {
    const problem = ifnameProblem(v.device);
    if (problem) throw new ConfigError(`vxlan.device ${q(v.device)}: ${problem}`);
    out.device = v.device as string;
  }
  if (v.mtu !== undefined) out.mtu = int(v.mtu, 'vxlan.mtu', 68, 65535);
  return Object.freeze(out);
}

/** What the backend needs of one peer: the vxlan underlay's family, or (host-gw) an address per pod CIDR family. */
export function checkPeerForBackend(backend: Backend, self: Peer, p: Peer, i: number): void {
  if (backend === 'vxlan' && !p.addresses.some((a) => a.includes(':') === self.addresses[0].includes(':'))) {
    throw new ConfigError(`peers[${i}].address ${q(p.addresses.join(','))}: the vxlan underlay is IPv${self.addresses[0].includes(':') ? 6 : 4} (this node's first address ${self.addresses[0]})`);
  }
  if (backend === 'host-gw' && p !== self) {
    p.podCIDRs.forEach((c, j) => {
      if (!p.addresses.some((a) => a.includes(':') === c.includes(':'))) throw new ConfigError(`peers[${i}].podCIDRs[${j}] ${q(c)}: host-gw needs an address of the same family in peers[${i}].address`);
    });
  }
}

/** Parses the peers file's JSON text; `nodeOverride` (--node) replaces its `node`. */
export function parseAgentConfig(text: string, nodeOverride?: string): AgentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`not JSON: ${(err as Error).message}`);
  }
  if (!isObj(raw)) throw new ConfigError(`must be a JSON object {node, backend, peers}`);
  const node = nodeOverride ?? raw.node;
  if (typeof node !== 'string' || !NAME_RE.test(node)) throw new ConfigError(`node ${q(node)}: must name this node (1-63 characters of A-Z a-z 0-9 _ . -)`);
  const backend = raw.backend ?? 'host-gw';
  if (backend !== 'host-gw' && backend !== 'vxlan') throw new ConfigError(`backend ${q(backend)}: must be "host-gw" or "vxlan"`);
  if (!Array.isArray(raw.peers)) throw new ConfigError(`peers ${q(raw.peers)}: must be an array of {name, address, podCIDRs}`);
  const peers = Object.freeze(raw.peers.map(parsePeer));
  checkDisjoint(peers);
  const self = peers.find((p) => p.name === node);
  if (!self) throw new ConfigError(`node ${q(node)}: not among peers[].name (${peers.map((p) => p.name).join(', ') || 'none'}); list this node too`);
  const vxlan = parseVxlan(raw.vxlan);
  peers.forEach((p, i) => checkPeerForBackend(backend, self, p, i));
  return Object.freeze({ node, backend, vxlan, peers });
}
