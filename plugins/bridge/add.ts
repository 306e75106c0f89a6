// bridge ADD: validate, build the plan's steps (plan.ts) once, then apply them in order, each step that creates
// something registering its undo, so any failure leaves nothing behind (the README's promise).

import { closeSync, constants, openSync } from 'node:fs';
import { CniError, Code } from '../../lib/cni/errors.ts';
import type { CallContext } from '../../lib/cni/skel.ts';
import type { Result } from '../../lib/cni/result.ts';
import { Rtnl, type Link } from '../../lib/kernel/netlink.ts';
import { inNetns } from '../../lib/kernel/netns.ts';
import { UndoStack } from '../../lib/util/undo.ts';
import { ownerTag } from '../../lib/cni/owner.ts';
import { splitCidr } from '../../lib/net/ip.ts';
import { parseBridgeConfig, type BridgeConfig, type Owner } from './config.ts';
import { attachPort, createVethPair, ensureBridge, existingBridge, pinBridgeMac, waitOperUp } from './links.ts';
import { buildL3, configureContainerIface, gatewayAddrs, setBridgeGateways } from './addresses.ts';
import { ipamAdd, execIpam } from './ipam.ts';
import { applyAttachment, removeOwned } from './nft-state.ts';
import { containerSysctls, forwardingSysctls } from './sysctls.ts';
import { addSteps, nftBatch, type Op } from './plan.ts';

export const ownerOf = (ctx: CallContext): Owner => ({ network: ctx.conf.name, containerId: ctx.env.containerId, ifname: ctx.env.ifname });

/** What the steps share: the config, both netlink sockets, the undo stack, and what earlier steps made. */
interface Attach {
  readonly ctx: CallContext;
  readonly cfg: BridgeConfig;
  readonly tag: string;
  readonly host: Rtnl;
  readonly ctr: Rtnl;
  readonly undo: UndoStack;
  bridge?: Link;
  veth?: Link;
  cif?: Link;
  port?: Link;
  l3: Result;
}

const made = <T>(v: T | undefined, what: string): T => {
  if (v === undefined) throw new CniError(Code.Internal, `bridge ADD: ${what} is missing (steps out of order)`);
  return v;
};

/** One function per step of the plan; the plan decides which run and in which order. */
const OPS: Record<Op, (a: Attach) => Promise<void>> = {
  'ensure bridge': async (a) => {
    a.bridge = await ensureBridge(a.host, a.cfg, a.undo);
  },
  'create veth pair': async (a) => {
    const { ctx, cfg } = a;
    const hostFd = openSync('/proc/self/ns/net', constants.O_RDONLY);
    let hostName: string;
    try {
      hostName = await createVethPair(a.ctr, ctx.env.ifname, hostFd, cfg, cfg.mtu || made(a.bridge, 'the bridge').mtu);
    } finally {
      closeSync(hostFd);
    }
    a.undo.push(`veth pair ${hostName}/${ctx.env.ifname}`, async () => {
      // Either end takes the other with it; the container end first, as it is ours by name in a netns we were given.
      const inCtr = await a.ctr.linkByName(ctx.env.ifname);
      if (inCtr) return a.ctr.deleteLink(inCtr.index);
      const inHost = await a.host.linkByName(hostName);
      if (inHost) return a.host.deleteLink(inHost.index);
    });
    a.veth = await a.host.linkByName(hostName);
    a.cif = await a.ctr.linkByName(ctx.env.ifname);
    if (!a.veth || !a.cif) throw new CniError(Code.Internal, `veth pair ${hostName}/${ctx.env.ifname} vanished after creation`);
    await a.host.setAlias(a.veth.index, a.tag);
  },
  'attach port': async (a) => {
    const bridge = made(a.bridge, 'the bridge');
    await attachPort(a.host, a.cfg, made(a.veth, 'the host veth'), bridge);
    // A bridge's MAC follows its ports unless set explicitly: pin it so the bridge (and gateway) MAC stays stable.
    a.bridge = (await pinBridgeMac(a.host, bridge.index)) ?? bridge;
  },
  'IPAM ADD': async (a) => {
    const type = made(a.cfg.ipamType, 'ipam.type');
    a.undo.push(`IPAM ${type} lease`, () => execIpam(a.ctx, type, 'DEL'));
    a.l3 = buildL3(a.cfg, await ipamAdd(a.ctx, type));
  },
  // The container side in one pass: its sysctls (switched into the netns once), then addresses, link up and routes.
  'configure container interface': async (a) => {
    inNetns(a.ctx.env.netns, () => containerSysctls(a.ctx.env.ifname, a.cfg, a.l3));
    await configureContainerIface(a.ctr, made(a.cif, 'the container interface').index, a.l3, a.cfg);
  },
  'set link up': async (a) => {
    inNetns(a.ctx.env.netns, () => containerSysctls(a.ctx.env.ifname, a.cfg, {}));
    await a.ctr.setUp(made(a.cif, 'the container interface').index, true);
  },
  'add gateway address': async (a) => {
    const bridge = made(a.bridge, 'the bridge');
    const gws = gatewayAddrs(a.cfg, a.l3);
    await setBridgeGateways(a.host, bridge.index, a.cfg.bridge, gws, a.cfg);
    if (gws.length) forwardingSysctls(gws);
  },
  'wait for operstate up': async (a) => {
    const veth = made(a.veth, 'the host veth');
    a.port = a.cfg.disableContainerInterface ? await a.host.linkByIndex(veth.index) : await waitOperUp(a.host, veth.index, veth.name);
  },
  'apply nft': async (a) => {
    const addrs = (a.l3.ips ?? []).map((i) => splitCidr(i.address));
    const batch = nftBatch(a.cfg, addrs, made(a.veth, 'the host veth').name, made(a.cif, 'the container interface').mac ?? '', a.tag);
    if (!batch.length) return;
    a.undo.push('nft elements', () => removeOwned((c) => c === a.tag));
    await applyAttachment(batch, a.tag);
  },
};

export async function add(ctx: CallContext): Promise<Result> {
  const cfg = parseBridgeConfig(ctx.conf, ctx.env.args);
  const owner = ownerOf(ctx);
  const steps = addSteps({ cfg, owner, netns: ctx.env.netns, knownAddrs: [] });
  const host = Rtnl.open();
  const ctr = inNetns(ctx.env.netns, () => Rtnl.open());
  try {
    await existingBridge(host, cfg.bridge);
    if (await ctr.linkByName(ctx.env.ifname)) {
      throw new CniError(Code.Internal, `container interface ${JSON.stringify(ctx.env.ifname)} already exists in ${ctx.env.netns}`);
    }
    return await UndoStack.run(async (undo) => {
      const a: Attach = { ctx, cfg, tag: ownerTag(owner), host, ctr, undo, l3: {} };
      for (const step of steps) await OPS[step.op](a);
      return resultOf(a);
    }, (line) => ctx.log(`bridge: ${line}`));
  } finally {
    host.close();
    ctr.close();
  }
}

/**
 * The result: IPAM's L3 and the three interfaces with their MACs, as the steps read them (the bridge's right after
 * pinning it, the host veth's once it is up, the container end's at creation), so no second read is needed.
 */
function resultOf(a: Attach): Result {
  const veth = made(a.veth, 'the host veth');
  const cif = made(a.cif, 'the container interface');
  const bridge = made(a.bridge, 'the bridge');
  return {
    ...a.l3,
    interfaces: [
      { name: bridge.name, mac: bridge.mac },
      { name: veth.name, mac: a.port?.mac ?? veth.mac },
      { name: a.ctx.env.ifname, mac: cif.mac, sandbox: a.ctx.env.netns },
    ],
  };
}
