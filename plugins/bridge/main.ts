// bridge: a docker0-style bridge with veth pairs, IPAM by delegation, gateway and nftables masquerade (see README.md).

import { pluginMain, type CallContext } from '../../lib/cni/skel.ts';
import { parseCniArgs } from '../../lib/cni/env.ts';
import { parseBridgeConfig } from './config.ts';
import { add, ownerOf } from './add.ts';
import { del } from './del.ts';
import { check } from './check.ts';
import { gc, status } from './status-gc.ts';
import { planBridge } from './plan.ts';
import { plannedAddrs } from './ipam.ts';

/** Addresses an ADD will get when the caller named them (runtimeConfig.ips, CNI_ARGS IP=); our host-local's own plan wins. */
function knownAddrs(ctx: CallContext): string[] {
  const rc = ctx.conf.runtimeConfig as { ips?: unknown } | undefined;
  if (Array.isArray(rc?.ips)) return rc.ips.filter((s): s is string => typeof s === 'string' && s.includes('/'));
  const ip = parseCniArgs(ctx.env.args, ['IP', 'MAC']).get('IP');
  return ip ? ip.split(',').filter((s) => s.includes('/')) : [];
}

pluginMain({
  about: 'tscni bridge plugin: bridge + veth pairs, IPAM delegation, gateway, nftables masquerade',
  add,
  del,
  check,
  status,
  gc,
  plan: async (ctx) => {
    const cfg = parseBridgeConfig(ctx.conf, ctx.env.args);
    let addrs = knownAddrs(ctx);
    if (ctx.env.command === 'ADD' && cfg.ipamType) {
      const planned = await plannedAddrs(ctx, cfg.ipamType);
      if (planned.length) addrs = planned;
    }
    return planBridge({ command: ctx.env.command, cfg, owner: ownerOf(ctx), netns: ctx.env.netns, knownAddrs: addrs });
  },
});
