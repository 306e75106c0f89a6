// host-local: IPAM over a lease store per network (see README.md in this folder); the verbs live in lib/ipam/verbs.ts.

import { pluginMain } from '../../lib/cni/skel.ts';
import { ipamAdd, ipamCheck, ipamDel, ipamGc, ipamPlan, ipamStatus } from '../../lib/ipam/verbs.ts';

pluginMain({
  about: 'tscni host-local plugin: allocates addresses from ranges, leases kept per network under dataDir',
  // IPAM never enters the container's namespace: the caller's own netns as CNI_NETNS does no harm here.
  actsInNetns: false,
  add: (ctx) => ipamAdd(ctx.conf, ctx.version, ctx.env),
  del: (ctx) => ipamDel(ctx.conf, ctx.env),
  check: (ctx) => ipamCheck(ctx.conf, ctx.version, ctx.env, ctx.prevResult),
  status: (ctx) => ipamStatus(ctx.conf, ctx.version),
  gc: (ctx) => ipamGc(ctx.conf),
  plan: (ctx) => ipamPlan(ctx.conf, ctx.version, ctx.env, ctx.env.command === 'DEL' ? 'DEL' : 'ADD'),
});
