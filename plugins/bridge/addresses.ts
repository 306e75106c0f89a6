// L3 of a bridge attachment: gateways and default routes from the IPAM result (pure), then addresses and routes
// on the container interface and the gateway on the bridge (kernel).

import { CniError, Code } from '../../lib/cni/errors.ts';
import type { IPConfig, Result, Route } from '../../lib/cni/result.ts';
import { AF } from '../../lib/kernel/netlink-codec.ts';
import { NetlinkError, type Rtnl } from '../../lib/kernel/netlink.ts';
import { canonicalIp, firstHost, splitCidr, type Prefixed } from '../../lib/net/ip.ts';
import type { BridgeConfig } from './config.ts';

/**
 * Turns the IPAM result into the attachment's L3 result: every IP on interface 2, a gateway per IP when isGateway
 * (network + 1 if IPAM gave none), a default route per family when isDefaultGateway (unless one is there), and
 * the config's dns replacing IPAM's when set.
 */
export function buildL3(cfg: BridgeConfig, ipam: Result): Result {
  const ips: IPConfig[] = (ipam.ips ?? []).map((ip) => {
    const out: IPConfig = { ...ip, interface: 2 };
    if (cfg.isGateway && !out.gateway) out.gateway = firstHost(splitCidr(ip.address));
    return out;
  });
  const routes: Route[] = [...(ipam.routes ?? [])];
  if (cfg.isDefaultGateway) {
    for (const v6 of [false, true]) {
      const ip = ips.find((i) => splitCidr(i.address).v6 === v6 && i.gateway);
      if (!ip) continue;
      const dst = v6 ? '::/0' : '0.0.0.0/0';
      if (!routes.some((r) => r.dst === dst)) routes.push({ dst, gw: ip.gateway });
    }
  }
  const out: Result = { ips };
  if (routes.length) out.routes = routes;
  const dns = cfg.dns ?? ipam.dns;
  if (dns) out.dns = dns;
  return out;
}

/** The addresses to put on the bridge: gateway/prefix of every IP that has a gateway (isGateway only). */
export function gatewayAddrs(cfg: BridgeConfig, l3: Result): Prefixed[] {
  if (!cfg.isGateway) return [];
  const out: Prefixed[] = [];
  for (const ip of l3.ips ?? []) {
    if (!ip.gateway) continue;
    const c = splitCidr(ip.address);
    const gw = { ip: canonicalIp(ip.gateway), prefixLen: c.prefixLen, v6: c.v6 };
    if (!out.some((g) => g.ip === gw.ip)) out.push(gw);
  }
  return out;
}

const isErrno = (err: unknown, code: string) => err instanceof NetlinkError && err.errno === code;

/** The route a result route becomes on the container iface: no gw means the family's gateway, if any. */
export function kernelRoute(r: Route, ips: readonly IPConfig[], oif: number) {
  const dst = splitCidr(r.dst, 'route dst');
  const gw = r.gw ?? ips.find((i) => splitCidr(i.address).v6 === dst.v6 && i.gateway)?.gateway;
  return { dst: dst.ip, dstLen: dst.prefixLen, gw, oif, priority: r.priority, table: r.table, scope: r.scope, mtu: r.mtu, advmss: r.advmss };
}

/** Addresses (no DAD unless enabledad), link up, routes: the container side of ConfigureIface. */
export async function configureContainerIface(ctr: Rtnl, index: number, l3: Result, cfg: BridgeConfig): Promise<void> {
  for (const ip of l3.ips ?? []) {
    const c = splitCidr(ip.address);
    try {
      await ctr.addAddr(index, c.ip, c.prefixLen, { noDad: !cfg.enabledad });
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
  }
  await ctr.setUp(index, true);
  if (cfg.enabledad && l3.ips?.some((i) => splitCidr(i.address).v6)) await waitDad(ctr, index);
  for (const r of l3.routes ?? []) {
    try {
      await ctr.addRoute(kernelRoute(r, l3.ips ?? [], index));
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw new CniError(Code.Internal, `failed to add route ${r.dst}${r.gw ? ` via ${r.gw}` : ''}: ${(err as Error).message}`);
    }
  }
}

async function waitDad(ctr: Rtnl, index: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const tentative = (await ctr.addrs(AF.INET6, index)).filter((a) => a.flags & 0x40);
    if (!tentative.length) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new CniError(Code.Internal, 'IPv6 duplicate address detection did not settle within 5 s');
}

/**
 * Puts the gateways on the bridge. Concurrent ADDs add the same address: EEXIST is fine. A different IPv4 address
 * already there is an error unless forceAddress, which replaces it (the reference's rule).
 */
export async function setBridgeGateways(rt: Rtnl, bridgeIndex: number, bridgeName: string, gws: readonly Prefixed[], cfg: BridgeConfig): Promise<void> {
  if (!gws.length) return;
  const existing = await rt.addrs(AF.UNSPEC, bridgeIndex);
  for (const gw of gws) {
    if (existing.some((a) => a.address === gw.ip && a.prefixLen === gw.prefixLen)) continue;
    if (!gw.v6) {
      const other = existing.filter((a) => a.family === AF.INET);
      for (const a of other) {
        if (!cfg.forceAddress) {
          throw new CniError(Code.Internal, `bridge ${bridgeName} already has an IP address (${a.address}/${a.prefixLen}) different from ${gw.ip}/${gw.prefixLen}; set forceAddress to replace it`);
        }
        await rt.delAddr(bridgeIndex, a.address, a.prefixLen);
      }
    }
    try {
      await rt.addAddr(bridgeIndex, gw.ip, gw.prefixLen, { noDad: true });
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
  }
}
