// `network create --driver overlay`'s flags turned into the node agent's peers document (pure). The document is
// validated by the agent's own parser (lib/agent/config.ts), and its errors are worded back in terms of the flags:
// `--peer "b=192.168.50.12": no CIDR` rather than `peers[1].podCIDRs`.

import { hostname } from 'node:os';
import ipaddr from 'ipaddr.js';
import { ConfigError, parseAgentConfig, type AgentConfig } from '../../agent/config.ts';
import { UsageError } from '../cli/errors.ts';

export interface OverlayFlags {
  /** This host's pod CIDR (--subnet). */
  subnet: string;
  /** --peer NAME=ADDR,CIDR[,CIDR6] as given. */
  peers: readonly string[];
  /** --opt K=V of the overlay driver: backend, vni, port, device, node, address. */
  opts: Readonly<Record<string, string>>;
}

export const OVERLAY_OPTS = ['backend', 'vni', 'port', 'device', 'mtu', 'node', 'address'] as const;

const q = (v: unknown) => JSON.stringify(v);

/** Splits --opt K=V values; `allowed` names the keys this driver takes. */
export function splitOpts(opts: readonly string[], allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of opts) {
    const at = o.indexOf('=');
    const k = at > 0 ? o.slice(0, at) : '';
    if (!allowed.includes(k)) throw new UsageError(`invalid --opt ${q(o)}: the overlay driver takes ${allowed.map((a) => `${a}=...`).join(', ')}`);
    out[k] = o.slice(at + 1);
  }
  return out;
}

/** One --peer: NAME=ADDR,CIDR[,CIDR] (the address may be a list of one per family, joined with '+'). */
export function parsePeerFlag(raw: string): { name: string; address: string | string[]; podCIDRs: string[] } {
  const m = /^([^=]*)=(.*)$/.exec(raw);
  if (!m) throw new UsageError(`invalid --peer ${q(raw)}: expected NAME=ADDR,CIDR (e.g. hostb=192.168.50.12,10.244.2.0/24)`);
  const [addr, ...cidrs] = m[2].split(',');
  if (!addr || !ipaddr.isValid(addr.split('+')[0])) throw new UsageError(`invalid --peer ${q(raw)}: address ${q(addr ?? '')} is not an IP address`);
  if (!cidrs.length || cidrs.some((c) => !c)) throw new UsageError(`invalid --peer ${q(raw)}: no CIDR for peer ${q(m[1])} (expected NAME=ADDR,CIDR)`);
  const addrs = addr.split('+');
  return { name: m[1], address: addrs.length === 1 ? addrs[0] : addrs, podCIDRs: cidrs };
}

const int = (v: string | undefined, field: string) => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`invalid --opt ${field}=${v}: must be an integer`);
  return Number(v);
};

/** The peers document the agent reads (this host first), before validation. */
export function peersDocument(f: OverlayFlags): Record<string, unknown> {
  const backend = f.opts.backend ?? 'vxlan';
  if (backend !== 'vxlan' && backend !== 'host-gw') throw new UsageError(`invalid --opt backend=${backend}: must be vxlan or host-gw`);
  const node = f.opts.node ?? hostname().split('.')[0];
  if (!f.opts.address) throw new UsageError('network create --driver overlay: --opt address=ADDR (this host\'s address on the network the peers share) is required');
  const address = f.opts.address.includes('+') ? f.opts.address.split('+') : f.opts.address;
  const self = { name: node, address, podCIDRs: f.subnet.split(',') };
  const vxlan: Record<string, unknown> = {};
  for (const k of ['vni', 'port', 'mtu'] as const) if (f.opts[k] !== undefined) vxlan[k] = int(f.opts[k], k);
  if (f.opts.device !== undefined) vxlan.device = f.opts.device;
  if (backend === 'host-gw' && Object.keys(vxlan).length) throw new UsageError(`invalid --opt ${Object.keys(vxlan)[0]}: only for backend=vxlan`);
  return { node, backend, ...(Object.keys(vxlan).length ? { vxlan } : {}), peers: [self, ...f.peers.map(parsePeerFlag)] };
}

/** Rewords an agent config error with the flag each field came from. */
export function reword(msg: string, f: OverlayFlags): string {
  return msg
    .replace(/peers\[(\d+)\]((?:\.\w+(?:\[\d+\])?)?)/g, (_all, i: string, rest: string) => {
      const n = Number(i);
      if (n === 0) return rest.startsWith('.podCIDRs') ? '--subnet' : rest.startsWith('.address') ? '--opt address' : rest.startsWith('.name') ? '--opt node' : 'this host';
      const field = rest.slice(1).replace(/\[\d+\]$/, '').replace('podCIDRs', 'CIDR');
      return `--peer ${q(f.peers[n - 1])}${field ? ` (${field})` : ''}`;
    })
    .replace(/\bvxlan\.(vni|port|device|mtu)\b/g, '--opt $1')
    .replace(/^node "/, '--opt node "');
}

/** Validates the flags into the agent's config and the document to write; every problem is a UsageError (exit 2). */
export function overlayConfig(f: OverlayFlags): { doc: Record<string, unknown>; cfg: AgentConfig } {
  const doc = peersDocument(f);
  try {
    return { doc, cfg: parseAgentConfig(JSON.stringify(doc)) };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`network create --driver overlay: ${reword(err.message, f)}`);
    throw err;
  }
}
