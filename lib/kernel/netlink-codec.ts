// Pure rtnetlink encoding/decoding: netlink attributes and the ifinfomsg/ifaddrmsg/rtmsg headers (host byte order).
// Written here rather than taken from the npm `netlink` package's codec (netlink/dist/rt/structs.js), which covers
// link, address and route messages too: bundled, that codec is ~140 KB of generated code that costs a plugin
// process ~4.6 ms of CPU to load under Bun (bench/README.md), more than loopback's whole call. The package stays
// the oracle: test/unit/kernel/netlink-oracle.test.ts checks this codec against it in both directions.

export const RTM = {
  NEWLINK: 16, DELLINK: 17, GETLINK: 18, SETLINK: 19,
  NEWADDR: 20, DELADDR: 21, GETADDR: 22,
  NEWROUTE: 24, DELROUTE: 25, GETROUTE: 26,
  NEWNEIGH: 28, DELNEIGH: 29, GETNEIGH: 30,
} as const;

export const NLM_F = { REQUEST: 0x1, ACK: 0x4, ROOT: 0x100, MATCH: 0x200, DUMP: 0x300, REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400, APPEND: 0x800 } as const;

export const IFLA = {
  ADDRESS: 1, BROADCAST: 2, IFNAME: 3, MTU: 4, LINK: 5, MASTER: 10, PROTINFO: 12, OPERSTATE: 16, LINKINFO: 18,
  NET_NS_PID: 19, AF_SPEC: 26, NET_NS_FD: 28, PROMISCUITY: 30, LINK_NETNSID: 37,
} as const;
export const IFLA_INFO = { KIND: 1, DATA: 2, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const;
export const IFF = { UP: 0x1, LOOPBACK: 0x8, PROMISC: 0x100, LOWER_UP: 0x10000 } as const;
export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, FLAGS: 8 } as const;
export const IFA_F = { NODAD: 0x02, DADFAILED: 0x08, TENTATIVE: 0x40, PERMANENT: 0x80 } as const;
export const RTA = { DST: 1, SRC: 2, IIF: 3, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, METRICS: 8, TABLE: 15 } as const;
export const RTAX = { MTU: 2, ADVMSS: 8 } as const;
export const AF = { UNSPEC: 0, INET: 2, BRIDGE: 7, INET6: 10 } as const;
export const RT_TABLE_MAIN = 254;
export const RTPROT = { KERNEL: 2, BOOT: 3, STATIC: 4 } as const;
export const RT_SCOPE = { UNIVERSE: 0, LINK: 253, HOST: 254 } as const;
export const RTN_UNICAST = 1;
export const RTNH_F_ONLINK = 0x4;
export const NDA = { DST: 1, LLADDR: 2 } as const;
export const NUD = { NOARP: 0x40, PERMANENT: 0x80 } as const;
export const NTF = { SELF: 0x02 } as const;
export const IFLA_VXLAN = { ID: 1, LINK: 3, LOCAL: 4, LEARNING: 7, PORT: 15, LOCAL6: 17 } as const;

const NLA_TYPE_MASK = 0x3fff;
export const NLA_F_NESTED = 0x8000;

const align4 = (n: number) => (n + 3) & ~3;

export function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

export const attrU8 = (type: number, v: number) => attr(type, Buffer.from([v & 0xff]));
export function attrU16(type: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return attr(type, b);
}
export function attrU32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return attr(type, b);
}
export const attrStr = (type: number, s: string) => attr(type, Buffer.concat([Buffer.from(s), Buffer.alloc(1)]));
export const attrNested = (type: number, children: Buffer[]) => attr(type | NLA_F_NESTED, Buffer.concat(children));

/** Parses a run of attributes into a map by type (last one wins; nested flag masked off). */
export function parseAttrs(buf: Buffer, offset = 0): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = offset;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.set(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

export const readStr = (b: Buffer | undefined) => (b ? b.toString('utf8').replace(/\0.*$/s, '') : undefined);
export const readU32 = (b: Buffer | undefined) => (b && b.length >= 4 ? b.readUInt32LE(0) : undefined);

export function ifinfomsg(fields: { family?: number; type?: number; index?: number; flags?: number; change?: number }): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(fields.family ?? 0, 0);
  b.writeUInt16LE(fields.type ?? 0, 2);
  b.writeInt32LE(fields.index ?? 0, 4);
  b.writeUInt32LE((fields.flags ?? 0) >>> 0, 8);
  b.writeUInt32LE((fields.change ?? 0) >>> 0, 12);
  return b;
}

export function ifaddrmsg(fields: { family: number; prefixlen: number; flags?: number; scope?: number; index: number }): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(fields.family, 0);
  b.writeUInt8(fields.prefixlen, 1);
  b.writeUInt8(fields.flags ?? 0, 2);
  b.writeUInt8(fields.scope ?? 0, 3);
  b.writeUInt32LE(fields.index, 4);
  return b;
}

export interface RtMsg { family: number; dstLen: number; srcLen?: number; tos?: number; table: number; protocol: number; scope: number; type: number; flags?: number }

export function rtmsg(f: RtMsg): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(f.family, 0);
  b.writeUInt8(f.dstLen, 1);
  b.writeUInt8(f.srcLen ?? 0, 2);
  b.writeUInt8(f.tos ?? 0, 3);
  b.writeUInt8(f.table, 4);
  b.writeUInt8(f.protocol, 5);
  b.writeUInt8(f.scope, 6);
  b.writeUInt8(f.type, 7);
  b.writeUInt32LE(f.flags ?? 0, 8);
  return b;
}

/** struct ndmsg (neighbour and, with AF_BRIDGE, FDB entries): family, 3 pad bytes, ifindex, state, flags, type. */
export function ndmsg(f: { family: number; index: number; state?: number; flags?: number; type?: number }): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(f.family, 0);
  b.writeInt32LE(f.index, 4);
  b.writeUInt16LE(f.state ?? 0, 8);
  b.writeUInt8(f.flags ?? 0, 10);
  b.writeUInt8(f.type ?? 0, 11);
  return b;
}

/**
 * IFLA_INFO_DATA children for a VXLAN link: VNI, underlay link, local address (v4 or v6 attribute by family),
 * learning off (entries come from the FDB we write) and the UDP port, which the kernel wants in network byte order.
 */
export function vxlanInfoData(v: { vni: number; link: number; local: string; port: number }): Buffer[] {
  const port = Buffer.alloc(2);
  port.writeUInt16BE(v.port);
  const local = ipToBytes(v.local);
  return [
    attrU32(IFLA_VXLAN.ID, v.vni),
    attrU32(IFLA_VXLAN.LINK, v.link),
    attr(local.length === 4 ? IFLA_VXLAN.LOCAL : IFLA_VXLAN.LOCAL6, local),
    attrU8(IFLA_VXLAN.LEARNING, 0),
    attr(IFLA_VXLAN.PORT, port),
  ];
}

/** The VXLAN settings read back from a link's IFLA_INFO_DATA (undefined fields were absent). */
export function parseVxlanInfoData(data: Buffer): { vni?: number; link?: number; local?: string; port?: number } {
  const a = parseAttrs(data);
  const local = a.get(IFLA_VXLAN.LOCAL) ?? a.get(IFLA_VXLAN.LOCAL6);
  const port = a.get(IFLA_VXLAN.PORT);
  return { vni: readU32(a.get(IFLA_VXLAN.ID)), link: readU32(a.get(IFLA_VXLAN.LINK)), local: local ? ipToString(local) : undefined, port: port ? port.readUInt16BE(0) : undefined };
}

/** An FDB entry on a VXLAN link (AF_BRIDGE, NTF_SELF: the device's own table): frames to `mac` go to underlay `dst`. */
export function fdbEntry(index: number, mac: string, dst: string, state: number = NUD.PERMANENT): Buffer[] {
  return [ndmsg({ family: AF.BRIDGE, index, state, flags: NTF.SELF }), attr(NDA.LLADDR, macFromString(mac)), attr(NDA.DST, ipToBytes(dst))];
}

/** A neighbour entry `ip lladdr mac` (AF_INET/AF_INET6 by the address); `mac` omitted for a delete. */
export function neighEntry(index: number, ip: string, mac?: string, state: number = NUD.PERMANENT): Buffer[] {
  const dst = ipToBytes(ip);
  const parts = [ndmsg({ family: dst.length === 4 ? AF.INET : AF.INET6, index, state }), attr(NDA.DST, dst)];
  if (mac) parts.push(attr(NDA.LLADDR, macFromString(mac)));
  return parts;
}

/** A main-table unicast route to dst/dstLen via `gw` carrying `protocol` (the owner's mark); `onlink` sets RTNH_F_ONLINK. */
export function routeVia(r: { dst: string; dstLen: number; gw?: string; oif?: number; onlink?: boolean }, protocol: number): Buffer[] {
  const dst = ipToBytes(r.dst);
  const parts = [rtmsg({ family: dst.length === 4 ? AF.INET : AF.INET6, dstLen: r.dstLen, table: RT_TABLE_MAIN, protocol, scope: RT_SCOPE.UNIVERSE, type: RTN_UNICAST, flags: r.onlink ? RTNH_F_ONLINK : 0 })];
  parts.push(attr(RTA.DST, dst));
  if (r.gw) parts.push(attr(RTA.GATEWAY, ipToBytes(r.gw)));
  if (r.oif !== undefined) parts.push(attrU32(RTA.OIF, r.oif));
  return parts;
}

export function macToString(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function macFromString(s: string): Buffer {
  return Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
}

/** Address bytes → text (IPv6 compressed the usual way). */
export function ipToString(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // compress the longest run of zero groups (length >= 2)
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Text → address bytes (4 or 16). Throws on a malformed address. */
export function ipToBytes(ip: string): Buffer {
  if (!ip.includes(':')) {
    const parts = ip.split('.');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
    return Buffer.from(parts.map(Number));
  }
  let text = ip;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = [...ipToBytes(text.slice(lastColon + 1))];
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`invalid IPv6 address ${JSON.stringify(ip)}`);
  const parse = (s: string) => (s === '' ? [] : s.split(':'));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const fill = 8 - head.length - rest.length;
  if ((halves.length === 1 && head.length !== 8) || fill < (halves.length === 2 ? 1 : 0)) throw new Error(`invalid IPv6 address ${JSON.stringify(ip)}`);
  const groups = [...head, ...Array(halves.length === 2 ? fill : 0).fill('0'), ...rest];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new Error(`invalid IPv6 address ${JSON.stringify(ip)}`);
    out.writeUInt16BE(parseInt(g, 16), i * 2);
  });
  if (tail.length) Buffer.from(tail).copy(out, 12);
  return out;
}
