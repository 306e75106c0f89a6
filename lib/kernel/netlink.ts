// The netlink seam: link, address and route operations over a synchronous rtnetlink socket (nl-socket.ts, libc
// through the FFI seam). A socket stays bound to the netns it was opened in.

import {
  AF, IFA, IFF, IFLA, IFLA_INFO, NLM_F, RTA, RTAX, RTM, RT_TABLE_MAIN, RTPROT, RT_SCOPE, RTN_UNICAST,
  attr, attrNested, attrStr, attrU32, ifaddrmsg, ifinfomsg, ipToBytes, macFromString, rtmsg,
} from './netlink-codec.ts';
import { NetlinkError, NlSocket, type NlMessage } from './nl-socket.ts';
import { parseAddr, parseLink, parseRoute, type Addr, type Link, type RouteEntry } from './netlink-parse.ts';

export { NetlinkError, type NlMessage };

export type { Addr, Link, RouteEntry } from './netlink-parse.ts';

const familyOf = (ip: string) => (ip.includes(':') ? AF.INET6 : AF.INET);

export class Rtnl {
  private readonly sock: NlSocket;

  private constructor(sock: NlSocket) {
    this.sock = sock;
  }

  /** Opens a socket in the calling thread's current netns (wrap in inNetns to target a container). */
  static open(): Rtnl {
    return new Rtnl(new NlSocket());
  }

  close(): void {
    this.sock.close();
  }

  // The socket is synchronous; the methods stay async so callers do not change when a step becomes truly async.
  private async req(op: string, type: number, data: Buffer[], flags = 0): Promise<NlMessage[]> {
    return this.sock.request(op, type, data, flags);
  }

  /** Sends one raw rtnetlink request (for lib/kernel helpers that build their own messages) and returns the replies. */
  async request(op: string, type: number, parts: Buffer[], flags = 0): Promise<NlMessage[]> {
    return this.req(op, type, parts, flags);
  }

  /** Sets IFLA_IFALIAS (shown by `ip link` as "alias"); an empty string clears it. */
  async setAlias(index: number, alias: string): Promise<void> {
    await this.req(`set alias of link #${index}`, RTM.NEWLINK, [ifinfomsg({ index }), attr(20 /* IFLA_IFALIAS */, Buffer.from(alias))]);
  }

  async links(): Promise<Link[]> {
    return (await this.req('list links', RTM.GETLINK, [ifinfomsg({})], NLM_F.DUMP)).filter((m) => m.type === RTM.NEWLINK).map(parseLink);
  }

  /** The link with this name, or undefined when there is none. */
  async linkByName(name: string): Promise<Link | undefined> {
    try {
      const msgs = await this.req(`get link ${name}`, RTM.GETLINK, [ifinfomsg({}), attrStr(IFLA.IFNAME, name)]);
      return msgs.length ? parseLink(msgs[0]) : undefined;
    } catch (err) {
      if (err instanceof NetlinkError && (err.errno === 'ENODEV' || err.errno === 'ENOENT')) return undefined;
      throw err;
    }
  }

  async linkByIndex(index: number): Promise<Link | undefined> {
    try {
      const msgs = await this.req(`get link #${index}`, RTM.GETLINK, [ifinfomsg({ index })]);
      return msgs.length ? parseLink(msgs[0]) : undefined;
    } catch (err) {
      if (err instanceof NetlinkError && (err.errno === 'ENODEV' || err.errno === 'ENOENT')) return undefined;
      throw err;
    }
  }

  async setUp(index: number, up: boolean): Promise<void> {
    await this.req(`set link #${index} ${up ? 'up' : 'down'}`, RTM.NEWLINK, [ifinfomsg({ index, flags: up ? IFF.UP : 0, change: IFF.UP })]);
  }

  async setPromisc(index: number, on: boolean): Promise<void> {
    await this.req(`set link #${index} promisc`, RTM.NEWLINK, [ifinfomsg({ index, flags: on ? IFF.PROMISC : 0, change: IFF.PROMISC })]);
  }

  async setMaster(index: number, master: number): Promise<void> {
    await this.req(`set master of link #${index}`, RTM.NEWLINK, [ifinfomsg({ index }), attrU32(IFLA.MASTER, master)]);
  }

  async setMtu(index: number, mtu: number): Promise<void> {
    await this.req(`set mtu of link #${index}`, RTM.NEWLINK, [ifinfomsg({ index }), attrU32(IFLA.MTU, mtu)]);
  }

  async setMac(index: number, mac: string): Promise<void> {
    await this.req(`set mac of link #${index}`, RTM.NEWLINK, [ifinfomsg({ index }), attr(IFLA.ADDRESS, macFromString(mac))]);
  }

  /** Creates a link of `kind` (bridge, dummy...). `extra` carries more IFLA attributes; EEXIST is the caller's to judge. */
  async createLink(name: string, kind: string, opts: { mtu?: number; mac?: string; infoData?: Buffer[]; extra?: Buffer[] } = {}): Promise<void> {
    const info = [attrStr(IFLA_INFO.KIND, kind)];
    if (opts.infoData?.length) info.push(attrNested(IFLA_INFO.DATA, opts.infoData));
    const attrs = [attrStr(IFLA.IFNAME, name), attrNested(IFLA.LINKINFO, info)];
    if (opts.mtu) attrs.push(attrU32(IFLA.MTU, opts.mtu));
    if (opts.mac) attrs.push(attr(IFLA.ADDRESS, macFromString(opts.mac)));
    if (opts.extra) attrs.push(...opts.extra);
    await this.req(`create ${kind} ${name}`, RTM.NEWLINK, [ifinfomsg({}), ...attrs], NLM_F.CREATE | NLM_F.EXCL);
  }

  /**
   * Creates a veth pair: `name` here (in this socket's netns), `peerName` moved straight into the netns
   * whose fd is `peerNetnsFd` (or left here when undefined).
   */
  async createVeth(name: string, peerName: string, opts: { mtu?: number; mac?: string; peerMac?: string; peerNetnsFd?: number } = {}): Promise<void> {
    const peerAttrs = [attrStr(IFLA.IFNAME, peerName)];
    if (opts.mtu) peerAttrs.push(attrU32(IFLA.MTU, opts.mtu));
    if (opts.peerMac) peerAttrs.push(attr(IFLA.ADDRESS, macFromString(opts.peerMac)));
    if (opts.peerNetnsFd !== undefined) peerAttrs.push(attrU32(IFLA.NET_NS_FD, opts.peerNetnsFd));
    const peer = attr(1 /* VETH_INFO_PEER */, Buffer.concat([ifinfomsg({}), ...peerAttrs]));
    await this.createLink(name, 'veth', { mtu: opts.mtu, mac: opts.mac, infoData: [peer] });
  }

  async deleteLink(index: number): Promise<void> {
    await this.req(`delete link #${index}`, RTM.DELLINK, [ifinfomsg({ index })]);
  }

  async moveToNetns(index: number, netnsFd: number): Promise<void> {
    await this.req(`move link #${index} to netns`, RTM.NEWLINK, [ifinfomsg({ index }), attrU32(IFLA.NET_NS_FD, netnsFd)]);
  }

  async addrs(family: number = AF.UNSPEC, index?: number): Promise<Addr[]> {
    const all = (await this.req('list addresses', RTM.GETADDR, [ifaddrmsg({ family, prefixlen: 0, index: 0 })], NLM_F.DUMP))
      .filter((m) => m.type === RTM.NEWADDR)
      .map(parseAddr);
    return index === undefined ? all : all.filter((a) => a.index === index);
  }

  /** Adds `ip/prefixLen` to a link. `noDad` skips IPv6 duplicate address detection. */
  async addAddr(index: number, ip: string, prefixLen: number, opts: { noDad?: boolean; replace?: boolean } = {}): Promise<void> {
    const family = familyOf(ip);
    const bytes = ipToBytes(ip);
    const attrs = [attr(IFA.LOCAL, bytes), attr(IFA.ADDRESS, bytes)];
    const flags = opts.noDad && family === AF.INET6 ? 0x02 : 0;
    if (family === AF.INET && prefixLen < 31) {
      const bcast = Buffer.from(bytes);
      const hostBits = 32 - prefixLen;
      const n = (bcast.readUInt32BE(0) | (hostBits === 32 ? 0xffffffff : (1 << hostBits) - 1)) >>> 0;
      bcast.writeUInt32BE(n, 0);
      attrs.push(attr(IFA.BROADCAST, bcast));
    }
    await this.req(`add address ${ip}/${prefixLen} to link #${index}`, RTM.NEWADDR, [ifaddrmsg({ family, prefixlen: prefixLen, flags, index }), ...attrs],
      NLM_F.CREATE | (opts.replace ? NLM_F.REPLACE : NLM_F.EXCL));
  }

  async delAddr(index: number, ip: string, prefixLen: number): Promise<void> {
    const bytes = ipToBytes(ip);
    await this.req(`delete address ${ip}/${prefixLen} from link #${index}`, RTM.DELADDR,
      [ifaddrmsg({ family: familyOf(ip), prefixlen: prefixLen, index }), attr(IFA.LOCAL, bytes)]);
  }

  async routes(family: number = AF.UNSPEC): Promise<RouteEntry[]> {
    return (await this.req('list routes', RTM.GETROUTE, [rtmsg({ family, dstLen: 0, table: 0, protocol: 0, scope: 0, type: 0 })], NLM_F.DUMP))
      .filter((m) => m.type === RTM.NEWROUTE)
      .map(parseRoute);
  }

  private routeMsg(r: { dst: string; dstLen: number; gw?: string; oif?: number; table?: number; scope?: number; priority?: number; mtu?: number; advmss?: number }): Buffer[] {
    const family = familyOf(r.dst);
    const table = r.table ?? RT_TABLE_MAIN;
    const scope = r.scope ?? (r.gw ? RT_SCOPE.UNIVERSE : RT_SCOPE.LINK);
    const parts = [rtmsg({ family, dstLen: r.dstLen, table: table < 256 ? table : 252, protocol: RTPROT.BOOT, scope, type: RTN_UNICAST })];
    if (r.dstLen > 0) parts.push(attr(RTA.DST, ipToBytes(r.dst)));
    if (r.gw) parts.push(attr(RTA.GATEWAY, ipToBytes(r.gw)));
    if (r.oif !== undefined) parts.push(attrU32(RTA.OIF, r.oif));
    if (r.priority !== undefined) parts.push(attrU32(RTA.PRIORITY, r.priority));
    if (table >= 256) parts.push(attrU32(RTA.TABLE, table));
    const metrics: Buffer[] = [];
    if (r.mtu) metrics.push(attrU32(RTAX.MTU, r.mtu));
    if (r.advmss) metrics.push(attrU32(RTAX.ADVMSS, r.advmss));
    if (metrics.length) parts.push(attrNested(RTA.METRICS, metrics));
    return parts;
  }

  /** Adds a route (ECMP-append semantics like the reference: an identical route is EEXIST). */
  async addRoute(r: { dst: string; dstLen: number; gw?: string; oif?: number; table?: number; scope?: number; priority?: number; mtu?: number; advmss?: number }): Promise<void> {
    await this.req(`add route ${r.dst}/${r.dstLen}${r.gw ? ` via ${r.gw}` : ''}`, RTM.NEWROUTE, this.routeMsg(r), NLM_F.CREATE | NLM_F.EXCL);
  }

  async delRoute(r: { dst: string; dstLen: number; gw?: string; oif?: number; table?: number }): Promise<void> {
    await this.req(`delete route ${r.dst}/${r.dstLen}`, RTM.DELROUTE, this.routeMsg(r));
  }
}
