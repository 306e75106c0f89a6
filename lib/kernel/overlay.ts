// Kernel steps the node agent (lib/agent) needs beyond lib/kernel/netlink.ts: VXLAN links read back with their
// settings, routes with a chosen rtm_protocol (the agent's ownership mark), neighbour and FDB entries. All over the
// same synchronous rtnetlink socket (Rtnl.request); messages come from netlink-codec.ts.

import {
  IFLA, IFLA_INFO, NDA, NLM_F, RTM, attrStr, fdbEntry, ifinfomsg, ipToString, macToString,
  ndmsg, neighEntry, parseAttrs, parseVxlanInfoData, readStr, readU32, routeVia, vxlanInfoData,
} from './netlink-codec.ts';
import { NetlinkError, type Rtnl } from './netlink.ts';

export interface VxlanLink { index: number; name: string; mtu: number; mac?: string; up: boolean; kind?: string; vni?: number; link?: number; local?: string; port?: number }
export interface VxlanSpec { name: string; vni: number; port: number; link: number; local: string; mtu: number; mac: string }
export interface Neigh { family: number; index: number; ip?: string; mac?: string; state: number; flags: number }
export interface OwnedRoute { dst: string; dstLen: number; gw: string; oif?: number; onlink: boolean }

const gone = (err: unknown) => err instanceof NetlinkError && ['ENODEV', 'ENOENT', 'ESRCH'].includes(err.errno);

/** The link named `name` with its VXLAN settings (when it is one), or undefined. */
export async function readVxlan(rtnl: Rtnl, name: string): Promise<VxlanLink | undefined> {
  let msgs;
  try {
    msgs = await rtnl.request(`get link ${name}`, RTM.GETLINK, [ifinfomsg({}), attrStr(IFLA.IFNAME, name)]);
  } catch (err) {
    if (gone(err)) return undefined;
    throw err;
  }
  if (!msgs.length) return undefined;
  const d = msgs[0].data;
  const a = parseAttrs(d, 16);
  const out: VxlanLink = {
    index: d.readInt32LE(4), name: readStr(a.get(IFLA.IFNAME)) ?? name, mtu: readU32(a.get(IFLA.MTU)) ?? 0,
    mac: macToString(a.get(IFLA.ADDRESS)), up: (d.readUInt32LE(8) & 1) !== 0,
  };
  const info = a.get(IFLA.LINKINFO);
  if (info) {
    const ia = parseAttrs(info);
    out.kind = readStr(ia.get(IFLA_INFO.KIND));
    const data = ia.get(IFLA_INFO.DATA);
    if (out.kind === 'vxlan' && data) Object.assign(out, parseVxlanInfoData(data));
  }
  return out;
}

/** Creates the VXLAN link (down; the caller sets it up once addressed). */
export async function createVxlan(rtnl: Rtnl, s: VxlanSpec): Promise<void> {
  await rtnl.createLink(s.name, 'vxlan', { mtu: s.mtu, mac: s.mac, infoData: vxlanInfoData(s) });
}

/**
 * Adds or replaces the route to r.dst/r.dstLen (NLM_F_REPLACE: one route per prefix, never a second one); with
 * `exclusive`, only adds it (NLM_F_EXCL: EEXIST when any route to that prefix is there, whoever owns it).
 */
export async function replaceRoute(rtnl: Rtnl, r: OwnedRoute, protocol: number, exclusive = false): Promise<void> {
  await rtnl.request(`${exclusive ? 'add' : 'replace'} route ${r.dst}/${r.dstLen} via ${r.gw}`, RTM.NEWROUTE, routeVia(r, protocol), NLM_F.CREATE | (exclusive ? NLM_F.EXCL : NLM_F.REPLACE));
}

/** Deletes our route to dst/dstLen; one already gone is fine. */
export async function deleteRoute(rtnl: Rtnl, dst: string, dstLen: number, protocol: number): Promise<void> {
  try {
    await rtnl.request(`delete route ${dst}/${dstLen}`, RTM.DELROUTE, routeVia({ dst, dstLen }, protocol));
  } catch (err) {
    if (!(err instanceof NetlinkError && err.errno === 'ESRCH')) throw err;
  }
}

/** Neighbour (AF_INET/AF_INET6) or FDB (AF_BRIDGE) entries on link `index`. */
export async function neighbours(rtnl: Rtnl, family: number, index: number): Promise<Neigh[]> {
  const msgs = await rtnl.request('list neighbours', RTM.GETNEIGH, [ndmsg({ family, index: 0 })], NLM_F.DUMP);
  return msgs.filter((m) => m.type === RTM.NEWNEIGH).map((m) => {
    const d = m.data;
    const a = parseAttrs(d, 12);
    const dst = a.get(NDA.DST);
    return { family: d[0], index: d.readInt32LE(4), state: d.readUInt16LE(8), flags: d[10], ip: dst ? ipToString(dst) : undefined, mac: macToString(a.get(NDA.LLADDR)) };
  }).filter((n) => n.index === index && n.family === family);
}

/** A permanent neighbour entry `ip lladdr mac` on link `index` (NUD_PERMANENT, replaced in place). */
export async function replaceNeigh(rtnl: Rtnl, index: number, ip: string, mac: string): Promise<void> {
  await rtnl.request(`replace neighbour ${ip} lladdr ${mac}`, RTM.NEWNEIGH, neighEntry(index, ip, mac), NLM_F.CREATE | NLM_F.REPLACE);
}

export async function deleteNeigh(rtnl: Rtnl, index: number, ip: string): Promise<void> {
  try {
    await rtnl.request(`delete neighbour ${ip}`, RTM.DELNEIGH, neighEntry(index, ip, undefined, 0));
  } catch (err) {
    if (!gone(err)) throw err;
  }
}

/** A permanent FDB entry on the VXLAN link: frames to `mac` are sent to underlay address `dst` (NTF_SELF). */
export async function replaceFdb(rtnl: Rtnl, index: number, mac: string, dst: string): Promise<void> {
  await rtnl.request(`replace fdb ${mac} dst ${dst}`, RTM.NEWNEIGH, fdbEntry(index, mac, dst), NLM_F.CREATE | NLM_F.REPLACE);
}

export async function deleteFdb(rtnl: Rtnl, index: number, mac: string, dst: string): Promise<void> {
  try {
    await rtnl.request(`delete fdb ${mac} dst ${dst}`, RTM.DELNEIGH, fdbEntry(index, mac, dst, 0));
  } catch (err) {
    if (!gone(err)) throw err;
  }
}
