// The sysctls of an attachment as data (for the plan) and their application (inside the netns they belong to).

import { writeSysctl } from '../../lib/kernel/sysctl.ts';
import type { Result } from '../../lib/cni/result.ts';
import type { BridgeConfig } from './config.ts';
import type { Prefixed } from '../../lib/net/ip.ts';

export interface Sysctl { readonly key: string; readonly value: string; readonly optional: boolean }

const hasV6 = (l3: Result) => (l3.ips ?? []).some((i) => i.address.includes(':'));

/** Container-side sysctls: arp_notify, DAD off unless enabledad, IPv6 switched on when IPv6 addresses come. */
export function containerSysctlList(ifname: string, cfg: BridgeConfig, l3: Result): Sysctl[] {
  const out: Sysctl[] = [{ key: `net/ipv4/conf/${ifname}/arp_notify`, value: '1', optional: false }];
  if (hasV6(l3)) {
    out.push({ key: 'net/ipv6/conf/lo/disable_ipv6', value: '0', optional: true });
    out.push({ key: `net/ipv6/conf/${ifname}/disable_ipv6`, value: '0', optional: true });
    out.push({ key: `net/ipv6/conf/${ifname}/keep_addr_on_down`, value: '1', optional: true });
  }
  out.push({ key: `net/ipv6/conf/${ifname}/accept_dad`, value: cfg.enabledad ? '1' : '0', optional: true });
  if (cfg.enabledad) out.push({ key: `net/ipv6/conf/${ifname}/enhanced_dad`, value: '1', optional: true });
  return out;
}

/** Host-side forwarding for the families that have a gateway on the bridge. */
export function forwardingSysctlList(gws: readonly Prefixed[]): Sysctl[] {
  const out: Sysctl[] = [];
  if (gws.some((g) => !g.v6)) out.push({ key: 'net/ipv4/ip_forward', value: '1', optional: false });
  if (gws.some((g) => g.v6)) out.push({ key: 'net/ipv6/conf/all/forwarding', value: '1', optional: false });
  return out;
}

const apply = (list: readonly Sysctl[]) => list.forEach((s) => writeSysctl(s.key, s.value, { optional: s.optional }));

/** Call inside inNetns(container): sysctl writes reach the netns the thread is in. */
export const containerSysctls = (ifname: string, cfg: BridgeConfig, l3: Result) => apply(containerSysctlList(ifname, cfg, l3));
export const forwardingSysctls = (gws: readonly Prefixed[]) => apply(forwardingSysctlList(gws));
