// Bridge and bridge-port settings over rtnetlink: vlan_filtering, hairpin/isolated (IFLA_PROTINFO) and port VLANs
// (AF_BRIDGE IFLA_AF_SPEC), the same messages `ip link` and `bridge vlan` send.

import { AF, IFLA, IFLA_INFO, RTM, attr, attrNested, attrStr, attrU8, ifinfomsg, parseAttrs } from './netlink-codec.ts';
import type { Rtnl } from './netlink.ts';

const IFLA_BR_VLAN_FILTERING = 7;
const IFLA_BRPORT = { MODE: 4, ISOLATED: 33 } as const; // MODE is the hairpin flag
const IFLA_BRIDGE = { FLAGS: 0, VLAN_INFO: 2 } as const;
const BRIDGE_FLAGS_SELF = 2;
export const BRIDGE_VLAN_INFO = { MASTER: 1, PVID: 2, UNTAGGED: 4, RANGE_BEGIN: 8, RANGE_END: 16 } as const;
const IFLA_EXT_MASK = 29;
const RTEXT_FILTER_BRVLAN = 2;

/** The IFLA_INFO_DATA attributes that create a bridge with VLAN filtering on. */
export const bridgeVlanFilteringData = (on: boolean): Buffer[] => [attrU8(IFLA_BR_VLAN_FILTERING, on ? 1 : 0)];

/** Turns vlan_filtering on or off on an existing bridge. */
export async function setBridgeVlanFiltering(rt: Rtnl, index: number, on: boolean): Promise<void> {
  const info = attrNested(IFLA.LINKINFO, [attrStr(IFLA_INFO.KIND, 'bridge'), attrNested(IFLA_INFO.DATA, bridgeVlanFilteringData(on))]);
  await rt.request(`set vlan_filtering of bridge #${index}`, RTM.NEWLINK, [ifinfomsg({ index }), info]);
}

/** Sets the hairpin and/or isolated flags of a bridge port (the enslaved link `index`). */
export async function setPortFlags(rt: Rtnl, index: number, flags: { hairpin?: boolean; isolated?: boolean }): Promise<void> {
  const attrs: Buffer[] = [];
  if (flags.hairpin !== undefined) attrs.push(attrU8(IFLA_BRPORT.MODE, flags.hairpin ? 1 : 0));
  if (flags.isolated !== undefined) attrs.push(attrU8(IFLA_BRPORT.ISOLATED, flags.isolated ? 1 : 0));
  if (!attrs.length) return;
  await rt.request(`set bridge port flags of link #${index}`, RTM.SETLINK, [ifinfomsg({ family: AF.BRIDGE, index }), attrNested(IFLA.PROTINFO, attrs)]);
}

function vlanInfo(flags: number, vid: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(flags, 0);
  b.writeUInt16LE(vid, 2);
  return attr(IFLA_BRIDGE.VLAN_INFO, b);
}

function vlanParts(index: number, min: number, max: number, flags: number, self: boolean): Buffer[] {
  const spec: Buffer[] = [];
  if (self) {
    const f = Buffer.alloc(2);
    f.writeUInt16LE(BRIDGE_FLAGS_SELF);
    spec.push(attr(IFLA_BRIDGE.FLAGS, f));
  }
  if (min === max) spec.push(vlanInfo(flags, min));
  else spec.push(vlanInfo(flags | BRIDGE_VLAN_INFO.RANGE_BEGIN, min), vlanInfo(flags | BRIDGE_VLAN_INFO.RANGE_END, max));
  return [ifinfomsg({ family: AF.BRIDGE, index }), attrNested(IFLA.AF_SPEC, spec)];
}

/** Adds VLANs min..max to a port (or to the bridge itself with `self`), optionally as PVID and untagged. */
export async function addPortVlan(rt: Rtnl, index: number, min: number, max: number, opts: { pvid?: boolean; untagged?: boolean; self?: boolean } = {}): Promise<void> {
  const flags = (opts.pvid ? BRIDGE_VLAN_INFO.PVID : 0) | (opts.untagged ? BRIDGE_VLAN_INFO.UNTAGGED : 0);
  await rt.request(`add vlan ${min}${max !== min ? `-${max}` : ''} to link #${index}`, RTM.SETLINK, vlanParts(index, min, max, flags, !!opts.self));
}

export async function delPortVlan(rt: Rtnl, index: number, min: number, max: number, opts: { self?: boolean } = {}): Promise<void> {
  await rt.request(`delete vlan ${min} from link #${index}`, RTM.DELLINK, vlanParts(index, min, max, 0, !!opts.self));
}

export interface PortVlan { vid: number; pvid: boolean; untagged: boolean }
export interface PortInfo { index: number; master?: number; hairpin?: boolean; isolated?: boolean; vlans: PortVlan[] }

/** Reads every bridge port with its hairpin/isolated flags and VLANs (AF_BRIDGE dump, like `bridge -d vlan`). */
export async function listPorts(rt: Rtnl): Promise<PortInfo[]> {
  const mask = Buffer.alloc(4);
  mask.writeUInt32LE(RTEXT_FILTER_BRVLAN);
  const msgs = await rt.request('list bridge ports', RTM.GETLINK, [ifinfomsg({ family: AF.BRIDGE }), attr(IFLA_EXT_MASK, mask)], 0x300);
  return msgs.filter((m) => m.type === RTM.NEWLINK).map((m) => {
    const attrs = parseAttrs(m.data, 16);
    const info: PortInfo = { index: m.data.readInt32LE(4), vlans: [] };
    const master = attrs.get(IFLA.MASTER);
    if (master) info.master = master.readUInt32LE(0);
    const prot = attrs.get(IFLA.PROTINFO);
    if (prot) {
      const p = parseAttrs(prot);
      if (p.has(IFLA_BRPORT.MODE)) info.hairpin = p.get(IFLA_BRPORT.MODE)![0] === 1;
      if (p.has(IFLA_BRPORT.ISOLATED)) info.isolated = p.get(IFLA_BRPORT.ISOLATED)![0] === 1;
    }
    const spec = attrs.get(IFLA.AF_SPEC);
    if (spec) {
      let off = 0;
      while (off + 4 <= spec.length) {
        const len = spec.readUInt16LE(off);
        const type = spec.readUInt16LE(off + 2) & 0x3fff;
        if (len < 4) break;
        if (type === IFLA_BRIDGE.VLAN_INFO && len >= 8) {
          const flags = spec.readUInt16LE(off + 4);
          info.vlans.push({ vid: spec.readUInt16LE(off + 6), pvid: (flags & BRIDGE_VLAN_INFO.PVID) !== 0, untagged: (flags & BRIDGE_VLAN_INFO.UNTAGGED) !== 0 });
        }
        off += (len + 3) & ~3;
      }
    }
    return info;
  });
}
