// Decoding of the kernel's link, address and route messages into the plain objects the plugins use.

import { AF, IFA, IFF, IFLA, IFLA_INFO, RTA, RTAX, ipToString, macToString, parseAttrs, readStr, readU32 } from './netlink-codec.ts';
import type { NlMessage } from './nl-socket.ts';

export interface Link {
  index: number;
  name: string;
  flags: number;
  mtu: number;
  mac?: string;
  master?: number;
  kind?: string;
  slaveKind?: string;
  linkIndex?: number;     // IFLA_LINK: the peer's index for a veth
  linkNetnsId?: number;   // set when the peer lives in another netns
  promiscuity?: number;
  operstate?: number;
  alias?: string;         // IFLA_IFALIAS: tscni keeps an owner tag here on host veths
  up: boolean;
}

export interface Addr { index: number; family: number; address: string; prefixLen: number; scope: number; flags: number }
export interface RouteEntry { family: number; dst?: string; dstLen: number; gw?: string; oif?: number; table: number; scope: number; type: number; protocol: number; priority?: number; mtu?: number; advmss?: number }

export function parseLink(msg: NlMessage): Link {
  const d = msg.data;
  const attrs = parseAttrs(d, 16);
  const flags = d.readUInt32LE(8);
  const link: Link = {
    index: d.readInt32LE(4),
    name: readStr(attrs.get(IFLA.IFNAME)) ?? '',
    flags,
    mtu: readU32(attrs.get(IFLA.MTU)) ?? 0,
    mac: macToString(attrs.get(IFLA.ADDRESS)),
    master: readU32(attrs.get(IFLA.MASTER)),
    linkIndex: readU32(attrs.get(IFLA.LINK)),
    linkNetnsId: readU32(attrs.get(IFLA.LINK_NETNSID)),
    promiscuity: readU32(attrs.get(IFLA.PROMISCUITY)),
    operstate: attrs.get(IFLA.OPERSTATE)?.[0],
    alias: readStr(attrs.get(20 /* IFLA_IFALIAS */)) || undefined,
    up: (flags & IFF.UP) !== 0,
  };
  const info = attrs.get(IFLA.LINKINFO);
  if (info) {
    const ia = parseAttrs(info);
    link.kind = readStr(ia.get(IFLA_INFO.KIND));
    link.slaveKind = readStr(ia.get(IFLA_INFO.SLAVE_KIND));
  }
  return link;
}

export function parseAddr(msg: NlMessage): Addr {
  const d = msg.data;
  const attrs = parseAttrs(d, 8);
  const family = d[0];
  const raw = attrs.get(IFA.LOCAL) ?? attrs.get(IFA.ADDRESS) ?? Buffer.alloc(family === AF.INET ? 4 : 16);
  return { index: d.readUInt32LE(4), family, address: ipToString(raw), prefixLen: d[1], scope: d[3], flags: readU32(attrs.get(IFA.FLAGS)) ?? d[2] };
}

export function parseRoute(msg: NlMessage): RouteEntry {
  const d = msg.data;
  const attrs = parseAttrs(d, 12);
  const dst = attrs.get(RTA.DST);
  const gw = attrs.get(RTA.GATEWAY);
  const r: RouteEntry = {
    family: d[0], dstLen: d[1], table: readU32(attrs.get(RTA.TABLE)) ?? d[4], protocol: d[5], scope: d[6], type: d[7],
    dst: dst ? ipToString(dst) : undefined, gw: gw ? ipToString(gw) : undefined,
    oif: readU32(attrs.get(RTA.OIF)), priority: readU32(attrs.get(RTA.PRIORITY)),
  };
  const metrics = attrs.get(RTA.METRICS);
  if (metrics) {
    const m = parseAttrs(metrics);
    r.mtu = readU32(m.get(RTAX.MTU));
    r.advmss = readU32(m.get(RTAX.ADVMSS));
  }
  return r;
}
