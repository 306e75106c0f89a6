// bridge ADD: validate, then bridge → veth pair → port → IPAM → container L3 → gateway → nft, each step undone on failure.

import { closeSync, constants, openSync } from 'node:fs';
import { CniError, Code } from '../../lib/cni/errors.ts';
import type { CallContext } from '../../lib/cni/skel.ts';
import type { Result } from '../../lib/cni/result.ts';
import { Rtnl } from '../../lib/kernel/netlink.ts';
import { inNetns } from '../../lib/kernel/netns.ts';
import { parseBridgeConfig, type BridgeConfig, type Owner } from './config.ts';
import { attachPort, createVethPair, ensureBridge, existingBridge, pinBridgeMac, waitOperUp } from './links.ts';
import { buildL3, configureContainerIface, gatewayAddrs, setBridgeGateways, splitCidr } from './addresses.ts';
import { ipamAdd, execIpam } from './ipam.ts';
import { attachmentBatch } from './masq-rules.ts';
import { ownerTag } from '../../lib/cni/owner.ts';
import { applyAttachment, removeOwned } from './nft-state.ts';
import { containerSysctls, forwardingSysctls } from './sysctls.ts';

type Undo = () => Promise<unknown>;

async function unwind(stack: Undo[], log: (s: string) => void): Promise<void> {
  for (const undo of stack.reverse()) {
    try {
      await undo();
    } catch (err) {
      log(`bridge: undo step failed: ${(err as Error).message}`);
    }
  }
}

export const ownerOf = (ctx: CallContext): Owner => ({ network: ctx.conf.name, containerId: ctx.env.containerId, ifname: ctx.env.ifname });

export async function add(ctx: CallContext): Promise<Result> {
  const cfg = parseBridgeConfig(ctx.conf, ctx.env.args);
  const owner = ownerOf(ctx);
  const tag = ownerTag(owner);
  const host = Rtnl.open();
  const ctr = inNetns(ctx.env.netns, () => Rtnl.open());
  const undo: Undo[] = [];
  try {
    await existingBridge(host, cfg.bridge);
    if (await ctr.linkByName(ctx.env.ifname)) {
      throw new CniError(Code.Internal, `container interface ${JSON.stringify(ctx.env.ifname)} already exists in ${ctx.env.netns}`);
    }
    return await attach(ctx, cfg, tag, host, ctr, undo);
  } catch (err) {
    await unwind(undo, ctx.log);
    throw err;
  } finally {
    host.close();
    ctr.close();
  }
}

async function attach(ctx: CallContext, cfg: BridgeConfig, tag: string, host: Rtnl, ctr: Rtnl, undo: Undo[]): Promise<Result> {
  let bridge = await ensureBridge(host, cfg);
  const hostFd = openSync('/proc/self/ns/net', constants.O_RDONLY);
  let hostName: string;
  try {
    hostName = await createVethPair(ctr, ctx.env.ifname, hostFd, cfg, cfg.mtu || bridge.mtu);
  } finally {
    closeSync(hostFd);
  }
  undo.push(async () => {
    const l = await ctr.linkByName(ctx.env.ifname);
    if (l) await ctr.deleteLink(l.index);
  });
  const veth = await host.linkByName(hostName);
  const cif = await ctr.linkByName(ctx.env.ifname);
  if (!veth || !cif) throw new CniError(Code.Internal, `veth pair ${hostName}/${ctx.env.ifname} vanished after creation`);
  await host.setAlias(veth.index, tag);
  await attachPort(host, cfg, veth, bridge);
  // A bridge's MAC follows its ports unless set explicitly: pin it so the bridge (and gateway) MAC stays stable.
  await pinBridgeMac(host, bridge.index);

  let result: Result = {};
  if (cfg.ipamType) {
    const ipamType = cfg.ipamType;
    undo.push(() => execIpam(ctx, ipamType, 'DEL'));
    const l3 = buildL3(cfg, await ipamAdd(ctx, ipamType));
    inNetns(ctx.env.netns, () => containerSysctls(ctx.env.ifname, cfg, l3));
    await configureContainerIface(ctr, cif.index, l3, cfg);
    const gws = gatewayAddrs(cfg, l3);
    await setBridgeGateways(host, bridge.index, cfg.bridge, gws, cfg);
    if (gws.length) forwardingSysctls(gws);
    result = l3;
  } else if (!cfg.disableContainerInterface) {
    inNetns(ctx.env.netns, () => containerSysctls(ctx.env.ifname, cfg, {}));
    await ctr.setUp(cif.index, true);
  }

  const batch = attachmentBatch({
    ipMasq: cfg.ipMasq, macspoofchk: cfg.macspoofchk, addrs: (result.ips ?? []).map((i) => splitCidr(i.address)),
    hostVeth: hostName, mac: cif.mac ?? '', tag,
  });
  if (batch.length) {
    undo.push(() => removeOwned((c) => c === tag));
    await applyAttachment(batch, tag);
  }

  const port = cfg.disableContainerInterface ? await host.linkByIndex(veth.index) : await waitOperUp(host, veth.index, hostName);
  bridge = (await host.linkByIndex(bridge.index)) ?? bridge;
  const cifNow = (await ctr.linkByIndex(cif.index)) ?? cif;
  return {
    ...result,
    interfaces: [
      { name: bridge.name, mac: bridge.mac },
      { name: hostName, mac: port?.mac ?? veth.mac },
      { name: ctx.env.ifname, mac: cifNow.mac, sandbox: ctx.env.netns },
    ],
  };
}
