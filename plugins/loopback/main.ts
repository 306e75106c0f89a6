// loopback: brings `lo` up in the container netns (ADD), down (DEL), and checks it is up (CHECK).

import { pluginMain, type CallContext } from '../../lib/cni/skel.ts';
import { CniError, Code } from '../../lib/cni/errors.ts';
import type { Result } from '../../lib/cni/result.ts';
import { AF } from '../../lib/kernel/netlink-codec.ts';
import { Rtnl, type Link } from '../../lib/kernel/netlink.ts';
import { inNetns } from '../../lib/kernel/netns.ts';

async function withLo<T>(netns: string, fn: (rt: Rtnl, lo: Link) => Promise<T>): Promise<T> {
  const rt = inNetns(netns, () => Rtnl.open());
  try {
    const lo = await rt.linkByName('lo');
    if (!lo) throw new CniError(Code.Internal, `no loopback interface in netns ${netns}`);
    return await fn(rt, lo);
  } finally {
    rt.close();
  }
}

const isLoopbackAddr = (family: number, a: string) => (family === AF.INET ? a.startsWith('127.') : a === '::1');

async function add(ctx: CallContext): Promise<Result | undefined> {
  return withLo(ctx.env.netns, async (rt, lo) => {
    const foreign = (await rt.addrs(AF.UNSPEC, lo.index)).filter((a) => !isLoopbackAddr(a.family, a.address));
    if (foreign.length) {
      throw new CniError(Code.Internal, `loopback interface found with non-loopback address ${foreign[0].address}/${foreign[0].prefixLen}`);
    }
    await rt.setUp(lo.index, true);
    if (ctx.prevResult) return ctx.prevResult;
    const addrs = await rt.addrs(AF.UNSPEC, lo.index);
    const result: Result = { interfaces: [{ name: 'lo', mac: '00:00:00:00:00:00', sandbox: ctx.env.netns }], ips: [] };
    for (const family of [AF.INET, AF.INET6]) {
      const a = addrs.find((x) => x.family === family);
      if (a) result.ips!.push({ interface: 0, address: `${a.address}/${a.prefixLen}` });
    }
    return result;
  });
}

async function del(ctx: CallContext): Promise<void> {
  if (!ctx.env.netns) return;
  try {
    await withLo(ctx.env.netns, (rt, lo) => rt.setUp(lo.index, false));
  } catch (err) {
    // DEL forgives: a netns that is already gone has nothing left to undo.
    if (err instanceof CniError && err.code === Code.InvalidEnv && /no such file|ENOENT/.test(err.message)) return;
    throw err;
  }
}

async function check(ctx: CallContext): Promise<void> {
  await withLo(ctx.env.netns, async (_rt, lo) => {
    if (!lo.up) throw new CniError(Code.Internal, 'loopback interface is down');
  });
}

pluginMain({
  about: 'tscni loopback plugin: brings lo up in a container network namespace',
  add,
  del,
  check,
  status: async () => {},
  gc: async () => {},
  plan: async (ctx) => [{ step: 'set link up', netns: ctx.env.netns, link: 'lo', command: ctx.env.command === 'ADD' ? 'up' : 'down' }],
});
