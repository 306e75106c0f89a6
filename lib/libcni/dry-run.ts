// The dry-run's stand-in for a plugin's result: later plugins in a list plan against what the first would most
// likely return (the IPAM range's first free address), since nothing was really added.

import ipaddr from 'ipaddr.js';
import type { RuntimeConf } from './chain.ts';
import type { ConfList } from './conflist.ts';

/** The IPv4 address `n` after `a` (as written: the subnet's own address, not masked). */
function plus(a: ipaddr.IPv4, n: number): ipaddr.IPv4 {
  const v = (a.toByteArray().reduce((acc, b) => acc * 256 + b, 0) + n) % 2 ** 32;
  return ipaddr.IPv4.parse([24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.'));
}

/** For dry-run only: the result a bridge-like first plugin would give, the IPAM range's first free address. */
export function plannedResult(list: ConfList, rt: RuntimeConf): Record<string, unknown> {
  const first = list.plugins[0];
  const ipam = (first.ipam ?? {}) as Record<string, unknown>;
  const ranges = Array.isArray(ipam.ranges) ? (ipam.ranges as Record<string, unknown>[][]).flat() : [ipam];
  const ips: Record<string, unknown>[] = [];
  for (const r of ranges) {
    const subnet = typeof r?.subnet === 'string' ? r.subnet : '';
    if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(subnet)) continue;
    const [base, prefix] = ipaddr.IPv4.parseCIDR(subnet);
    ips.push({ address: `${plus(base, 2)}/${prefix}`, gateway: typeof r.gateway === 'string' ? r.gateway : plus(base, 1).toString(), interface: 2 });
  }
  const bridge = typeof first.bridge === 'string' ? first.bridge : 'cni0';
  return {
    cniVersion: list.cniVersion,
    interfaces: [{ name: bridge }, { name: 'veth-planned' }, { name: rt.ifName, sandbox: rt.netns }],
    ips,
  };
}
