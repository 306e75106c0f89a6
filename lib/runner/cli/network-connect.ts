// `tscni network connect [--alias A]... NET NAME|disconnect NET NAME`: another user network on its own interface
// (eth1, ...) through that network's chain, ADDed now when the container runs (and at every later start), DELed with
// the cached config. --alias names the container on that network only; they go with the attachment. Connecting
// starts that network's resolver (dns/attach.ts); disconnecting the last container stops it.

import { list, parseArgs } from './args/argv.ts';
import type { Ctx } from '../context.ts';
import { addExtra, delExtra, nextIfName } from '../container/network/network-attach.ts';
import { modeOf } from '../container/network/net-mode.ts';
import { refreshState } from '../container/stop.ts';
import { checkAlias, type ContainerState } from '../container/store.ts';
import { ensureResolvers, refreshResolvConf } from '../dns/attach.ts';
import { checkAliasesFree } from '../dns/names.ts';
import { findNetwork } from '../networks.ts';
import { conflict, Exit, RunnerError, UsageError } from './errors.ts';

type Out = (s: string) => void;

function args(verb: string, argv: string[]): [string, string, string[]] {
  const p = parseArgs(argv, verb === 'connect' ? { multi: ['alias'] } : {}, `network ${verb}`);
  if (p.positionals.length !== 2) throw new UsageError(`network ${verb}: expected NETWORK CONTAINER`);
  const aliases = [...new Set(list(p, 'alias'))];
  for (const a of aliases) checkAlias(a, '--alias');
  return [p.positionals[0], p.positionals[1], aliases];
}

/** Runs fn on the container's current state under its lock and saves it; returns the saved state. */
async function withContainer(ctx: Ctx, ref: string, fn: (c: ContainerState) => Promise<void>): Promise<ContainerState> {
  const c0 = await refreshState(ctx, ctx.containers.resolve(ref));
  return ctx.containers.locked(c0.id, async () => {
    const c = ctx.containers.load(c0.id) ?? c0;
    await fn(c);
    ctx.containers.save(c);
    return c;
  });
}

export async function connect(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const [net, ref, aliases] = args('connect', argv);
  findNetwork(ctx.paths, net);
  const saved = await withContainer(ctx, ref, async (c) => {
    const mode = modeOf(c);
    if (mode.kind !== 'network') throw conflict(`cannot connect container ${ref} to network ${net}: it is in the ${mode.kind} network mode (only containers on a user network can have more)`);
    if (c.network === net || (c.extraNetworks ?? []).some((e) => e.network === net)) throw conflict(`container ${ref} is already connected to network ${net}`);
    checkAliasesFree(ctx.containers.all(), c, net, aliases);
    const e = { network: net, ifName: nextIfName(c), ...(aliases.length ? { aliases } : {}) };
    if (c.status === 'running') {
      try {
        Object.assign(e, { settings: await addExtra(ctx, c, e) });
      } catch (err) {
        await delExtra(ctx, c, e, []);
        throw new RunnerError(`connecting ${ref} to ${net}: ${(err as Error).message}`, Exit.Failure, { cause: err });
      }
    }
    c.extraNetworks = [...(c.extraNetworks ?? []), e];
  });
  // After the save, so the resolver (which counts its network's users from the store) keeps running for it.
  if (saved.status === 'running') {
    await ensureResolvers(ctx, saved.extraNetworks!.filter((x) => x.network === net));
    refreshResolvConf(ctx, saved);
  }
  out(`${ref}\n`);
  return Exit.Ok;
}

export async function disconnect(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const [net, ref] = args('disconnect', argv);
  const saved = await withContainer(ctx, ref, async (c) => {
    if (c.network === net) throw conflict(`cannot disconnect container ${ref} from ${net}: it is the network it was started on (remove the container instead)`);
    const e = (c.extraNetworks ?? []).find((x) => x.network === net);
    if (!e) throw conflict(`container ${ref} is not connected to network ${net}`);
    const problems: string[] = [];
    if (c.status === 'running') await delExtra(ctx, c, e, problems);
    if (problems.length) throw new RunnerError(`disconnecting ${ref} from ${net}: ${problems.join('; ')}`);
    c.extraNetworks = (c.extraNetworks ?? []).filter((x) => x !== e);
  });
  if (saved.status === 'running') refreshResolvConf(ctx, saved);
  out(`${ref}\n`);
  return Exit.Ok;
}
