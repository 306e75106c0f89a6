// bridge CHECK: the bridge, the veth pair, addresses, routes, MAC and nft elements still match prevResult.

import { CniError, Code } from '../../lib/cni/errors.ts';
import type { CallContext } from '../../lib/cni/skel.ts';
import type { Result } from '../../lib/cni/result.ts';
import { AF } from '../../lib/kernel/netlink-codec.ts';
import { Rtnl } from '../../lib/kernel/netlink.ts';
import { inNetns } from '../../lib/kernel/netns.ts';
import { parseBridgeConfig, type BridgeConfig } from './config.ts';
import { execIpam } from './ipam.ts';
import { ownerTag } from '../../lib/cni/owner.ts';
import { listOwned } from './nft-state.ts';
import { ownerOf } from './add.ts';
import { kernelRoute } from './addresses.ts';
import { splitCidr } from '../../lib/net/ip.ts';
import { ownedBy } from './ownership.ts';
import { listPorts } from '../../lib/kernel/bridge-port.ts';

const fail = (msg: string) => new CniError(Code.Internal, msg);

export async function check(ctx: CallContext): Promise<void> {
  const cfg = parseBridgeConfig(ctx.conf, ctx.env.args);
  const prev = ctx.prevResult;
  if (!prev) throw new CniError(Code.InvalidConfig, 'invalid prevResult: CHECK needs the result of the ADD (prevResult is missing)');
  if (cfg.ipamType) await execIpam(ctx, cfg.ipamType, 'CHECK');
  const ifaces = prev.interfaces ?? [];
  const brIdx = ifaces.findIndex((i) => i.name === cfg.bridge && !i.sandbox);
  const cIdx = ifaces.findIndex((i) => i.name === ctx.env.ifname && i.sandbox === ctx.env.netns);
  if (brIdx < 0) throw fail(`prevResult has no interface for bridge ${JSON.stringify(cfg.bridge)}`);
  if (cIdx < 0) throw fail(`prevResult has no interface ${JSON.stringify(ctx.env.ifname)} with sandbox ${ctx.env.netns}`);
  const tag = ownerTag(ownerOf(ctx));
  const host = Rtnl.open();
  const ctr = inNetns(ctx.env.netns, () => Rtnl.open());
  try {
    const br = await host.linkByName(cfg.bridge);
    if (!br || br.kind !== 'bridge') throw fail(`bridge ${cfg.bridge} is missing or not a bridge`);
    const wantBrMac = ifaces[brIdx].mac;
    if (wantBrMac && br.mac !== wantBrMac) throw fail(`bridge ${cfg.bridge} has MAC ${br.mac}, prevResult says ${wantBrMac}`);
    if (cfg.promiscMode !== ((br.flags & 0x100) !== 0)) throw fail(`bridge ${cfg.bridge} promiscuous mode is ${!cfg.promiscMode}, config says ${cfg.promiscMode}`);
    const cif = await ctr.linkByName(ctx.env.ifname);
    if (!cif) throw fail(`container interface ${ctx.env.ifname} is missing from ${ctx.env.netns}`);
    if (cif.kind !== 'veth') throw fail(`container interface ${ctx.env.ifname} is a ${cif.kind ?? 'non-veth link'}, not a veth`);
    const wantMac = ifaces[cIdx].mac;
    if (wantMac && cif.mac !== wantMac) throw fail(`container interface ${ctx.env.ifname} has MAC ${cif.mac}, prevResult says ${wantMac}`);
    const peer = cif.linkIndex !== undefined ? await host.linkByIndex(cif.linkIndex) : undefined;
    if (!peer || peer.kind !== 'veth') throw fail(`the host end of ${ctx.env.ifname} is missing`);
    if (!ownedBy(peer, (a) => a === tag)) throw fail(`host veth ${peer.name} belongs to ${JSON.stringify(peer.alias ?? '')}, not to this attachment (${JSON.stringify(tag)})`);
    if (peer.master !== br.index) throw fail(`host veth ${peer.name} is not enslaved to bridge ${cfg.bridge}`);
    await checkPort(host, peer.index, peer.name, cfg);
    const hostIface = ifaces.find((i, n) => n !== brIdx && n !== cIdx && !i.sandbox);
    if (hostIface && hostIface.name !== peer.name) throw fail(`host veth is ${peer.name}, prevResult says ${hostIface.name}`);
    await checkL3(ctr, cif.index, prev, cIdx, ctx.env.ifname);
  } finally {
    host.close();
    ctr.close();
  }
  await checkNft(cfg, prev, cIdx, tag);
}

async function checkPort(host: Rtnl, index: number, name: string, cfg: BridgeConfig): Promise<void> {
  const port = (await listPorts(host)).find((p) => p.index === index);
  if (!port) throw fail(`host veth ${name} is not a bridge port`);
  if (!!port.hairpin !== cfg.hairpinMode) throw fail(`host veth ${name} hairpin mode is ${!!port.hairpin}, config says ${cfg.hairpinMode}`);
  if (!!port.isolated !== cfg.portIsolation) throw fail(`host veth ${name} isolated flag is ${!!port.isolated}, config says ${cfg.portIsolation}`);
  if (cfg.vlan && !port.vlans.some((v) => v.vid === cfg.vlan && v.pvid && v.untagged)) throw fail(`host veth ${name} lacks vlan ${cfg.vlan} as PVID untagged`);
}

async function checkL3(ctr: Rtnl, index: number, prev: Result, cIdx: number, ifname: string): Promise<void> {
  const ips = (prev.ips ?? []).filter((i) => i.interface === undefined || i.interface === cIdx);
  const have = await ctr.addrs(AF.UNSPEC, index);
  for (const ip of ips) {
    const c = splitCidr(ip.address);
    if (!have.some((a) => a.address === c.ip && a.prefixLen === c.prefixLen)) throw fail(`address ${ip.address} is missing from ${ifname}`);
  }
  if (!prev.routes?.length) return;
  const routes = await ctr.routes(AF.UNSPEC);
  for (const r of prev.routes) {
    const want = kernelRoute(r, ips, index);
    const found = routes.some((k) => (k.dst ?? (want.dst.includes(':') ? '::' : '0.0.0.0')) === want.dst && k.dstLen === want.dstLen && (!want.gw || k.gw === want.gw));
    if (!found) throw fail(`route ${r.dst}${want.gw ? ` via ${want.gw}` : ''} is missing in the container`);
  }
}

async function checkNft(cfg: BridgeConfig, prev: Result, cIdx: number, tag: string): Promise<void> {
  if (!cfg.ipMasq && !cfg.macspoofchk) return;
  const mine = (await listOwned()).filter((e) => e.comment === tag);
  if (cfg.ipMasq) {
    for (const ip of prev.ips ?? []) {
      if (ip.interface !== undefined && ip.interface !== cIdx) continue;
      const c = splitCidr(ip.address);
      const set = c.v6 ? 'masq6' : 'masq4';
      if (!mine.some((e) => e.set === set && e.val === c.ip)) throw fail(`masquerade element for ${c.ip} is missing from set inet tscni_bridge ${set}`);
      const local = c.v6 ? 'local6' : 'local4';
      if (!mine.some((e) => e.set === local && (e.val as { concat?: unknown[] } | undefined)?.concat?.[0] === c.ip)) {
        throw fail(`own-subnet element for ${c.ip} is missing from set inet tscni_bridge ${local}`);
      }
    }
  }
  if (cfg.macspoofchk && !mine.some((e) => e.set === 'spoofchk_allowed')) throw fail('MAC spoof check element is missing from bridge tscni_bridge spoofchk_allowed');
}
