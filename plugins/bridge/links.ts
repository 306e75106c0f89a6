// Kernel steps of the bridge plugin on links: the bridge (race-free create), the veth pair, port flags and VLANs.

import { randomBytes } from 'node:crypto';
import { CniError, Code } from '../../lib/cni/errors.ts';
import { NetlinkError, type Link, type Rtnl } from '../../lib/kernel/netlink.ts';
import { addPortVlan, bridgeVlanFilteringData, delPortVlan, setBridgeVlanFiltering, setPortFlags } from '../../lib/kernel/bridge-port.ts';
import { writeSysctl } from '../../lib/kernel/sysctl.ts';
import type { UndoStack } from '../../lib/util/undo.ts';
import type { BridgeConfig } from './config.ts';

const isErrno = (err: unknown, ...codes: string[]) => err instanceof NetlinkError && codes.includes(err.errno);

/** Fails (code 7, nothing created) when `name` exists but is not a bridge. Returns the bridge if it exists. */
export async function existingBridge(rt: Rtnl, name: string): Promise<Link | undefined> {
  const link = await rt.linkByName(name);
  if (link && link.kind !== 'bridge') {
    throw new CniError(Code.InvalidConfig, `invalid bridge ${JSON.stringify(name)}: a link of that name already exists and is ${link.kind ? `a ${link.kind}` : 'not a bridge'}`);
  }
  return link;
}

/**
 * Makes sure the bridge exists, is up, has accept_ra=0 and the requested promisc/vlan_filtering. Many ADDs may race
 * to create it: EEXIST means another one won, so the link is simply read again. A bridge this call creates is
 * registered on `undo` at once, so any later failure of the ADD removes it again (unless another ADD has attached a
 * port to it meanwhile).
 */
export async function ensureBridge(rt: Rtnl, cfg: BridgeConfig, undo: UndoStack): Promise<Link> {
  let br = await existingBridge(rt, cfg.bridge);
  if (!br) {
    try {
      await rt.createLink(cfg.bridge, 'bridge', { mtu: cfg.mtu || undefined, infoData: cfg.vlanFiltering ? bridgeVlanFilteringData(true) : undefined });
      undo.push(`bridge ${cfg.bridge}`, () => deleteUnusedBridge(rt, cfg.bridge));
    } catch (err) {
      if (isErrno(err, 'ENOTSUP', 'EOPNOTSUPP')) throw noVlanFiltering(cfg);
      if (!isErrno(err, 'EEXIST')) throw err;
    }
    br = await existingBridge(rt, cfg.bridge);
    if (!br) throw new CniError(Code.Internal, `bridge ${cfg.bridge} vanished right after it was created`);
  }
  if (cfg.vlanFiltering) {
    try {
      await setBridgeVlanFiltering(rt, br.index, true);
    } catch (err) {
      throw isErrno(err, 'ENOTSUP', 'EOPNOTSUPP') ? noVlanFiltering(cfg) : err;
    }
  }
  if (cfg.promiscMode && !(br.flags & 0x100)) await rt.setPromisc(br.index, true);
  writeSysctl(`net/ipv6/conf/${cfg.bridge}/accept_ra`, '0', { optional: true });
  if (!br.up) await rt.setUp(br.index, true);
  return (await rt.linkByIndex(br.index)) ?? br;
}

/** Deletes bridge `name` unless some link is enslaved to it (a concurrent ADD's port): the undo of its creation. */
async function deleteUnusedBridge(rt: Rtnl, name: string): Promise<void> {
  const br = await rt.linkByName(name);
  if (br?.kind !== 'bridge' || (await rt.links()).some((l) => l.master === br.index)) return;
  try {
    await rt.deleteLink(br.index);
  } catch (err) {
    if (!isErrno(err, 'ENODEV', 'ENOENT')) throw err;
  }
}

function noVlanFiltering(cfg: BridgeConfig): CniError {
  const what = cfg.vlan ? `vlan ${cfg.vlan}` : `vlanTrunk ${JSON.stringify(cfg.vlanTrunk.map((r) => (r.min === r.max ? { id: r.min } : { minID: r.min, maxID: r.max })))}`;
  return new CniError(Code.UnsupportedField, `unsupported ${what}: this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING is off, vlan_filtering answers EOPNOTSUPP)`);
}

/** Pins the bridge MAC to its current value: an unpinned bridge takes the lowest port MAC, or zeros with no ports. */
export async function pinBridgeMac(rt: Rtnl, index: number): Promise<Link | undefined> {
  const now = await rt.linkByIndex(index);
  if (now?.mac && now.mac !== '00:00:00:00:00:00') await rt.setMac(index, now.mac);
  return rt.linkByIndex(index);
}

export const randomVethName = () => `veth${randomBytes(4).toString('hex')}`;

/**
 * Creates the veth pair from inside the container netns (socket `ctr`): `ifname` stays there, the peer is created
 * straight in the host netns (fd `hostNetnsFd`) as `veth` + 8 hex chars, retried on a name clash.
 */
export async function createVethPair(ctr: Rtnl, ifname: string, hostNetnsFd: number, cfg: BridgeConfig, mtu: number): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const hostName = randomVethName();
    try {
      await ctr.createVeth(ifname, hostName, { mtu: mtu || undefined, mac: cfg.mac, peerNetnsFd: hostNetnsFd });
      return hostName;
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      if (await ctr.linkByName(ifname)) throw new CniError(Code.Internal, `container interface ${JSON.stringify(ifname)} already exists in the container network namespace`);
    }
  }
  throw new CniError(Code.TryAgain, 'failed to find a free host veth name after 10 tries');
}

/** Enslaves the host veth, sets hairpin/isolated and VLANs, and brings it up. */
export async function attachPort(rt: Rtnl, cfg: BridgeConfig, veth: Link, bridge: Link): Promise<void> {
  writeSysctl(`net/ipv6/conf/${veth.name}/accept_ra`, '0', { optional: true });
  await rt.setMaster(veth.index, bridge.index);
  if (cfg.hairpinMode || cfg.portIsolation) await setPortFlags(rt, veth.index, { hairpin: cfg.hairpinMode || undefined, isolated: cfg.portIsolation || undefined });
  if (cfg.vlanFiltering) {
    if (!cfg.preserveDefaultVlan) {
      try {
        await delPortVlan(rt, veth.index, 1, 1);
      } catch (err) {
        if (!isErrno(err, 'ENOENT', 'EINVAL')) throw err;
      }
    }
    // On a trunk `vlan` is the native (untagged) VLAN; alone it is the access VLAN.
    if (cfg.vlan) await addPortVlan(rt, veth.index, cfg.vlan, cfg.vlan, { pvid: true, untagged: true });
    for (const r of cfg.vlanTrunk) {
      for (const [min, max] of splitAround(r.min, r.max, cfg.vlan)) await addPortVlan(rt, veth.index, min, max);
    }
  }
  await rt.setUp(veth.index, true);
}

/** A trunk range without the native VLAN (which is already on the port as PVID). */
function splitAround(min: number, max: number, skip: number): [number, number][] {
  if (!skip || skip < min || skip > max) return [[min, max]];
  const out: [number, number][] = [];
  if (skip > min) out.push([min, skip - 1]);
  if (skip < max) out.push([skip + 1, max]);
  return out;
}

const IF_OPER_UP = 6;

/**
 * Waits for the host veth to be operationally up (the reference retries after 0, 50, 500, 1000 and 1000 ms; polling
 * every 5 ms within the same 2.5 s budget returns as soon as the kernel flips the state, usually within ~10 ms).
 */
export async function waitOperUp(rt: Rtnl, index: number, name: string): Promise<Link> {
  const deadline = Date.now() + 2500;
  for (;;) {
    const link = await rt.linkByIndex(index);
    if (link?.operstate === IF_OPER_UP) return link;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new CniError(Code.Internal, `bridge port ${name} in error state: not operationally up after 2.5 s`);
}
