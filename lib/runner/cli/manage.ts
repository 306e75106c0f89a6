// `tscni stop|start|rm NAME...`: one container at a time, every one attempted, the last failure's exit code.

import { parseArgs, bool, str } from './args/argv.ts';
import { destroyContainer, startContainer, interrupt } from '../container/lifecycle.ts';
import { checkPortsFreeOfOthers } from '../container/network/ports.ts';
import { joinersOf } from '../container/network/net-mode.ts';
import { refreshState, stopContainer } from '../container/stop.ts';
import { createdOnly, type ContainerState } from '../container/store.ts';
import type { Ctx } from '../context.ts';
import { withLock } from '../lock.ts';
import { Exit, RunnerError, UsageError, conflict } from './errors.ts';
import { printHelpIfAsked } from './help.ts';
import { startsAtBoot } from '../container/restart.ts';

type Out = (s: string) => void;

/** `rm -v`: the container's anonymous volumes go with it (named ones stay, as with docker), unless another uses them. */
async function removeAnonymousVolumes(ctx: Ctx, c: ContainerState): Promise<void> {
  const anonymous = (c.mounts ?? []).filter((m) => m.type === 'volume' && m.anonymous).map((m) => m.source!);
  if (anonymous.length === 0) return;
  await withLock(ctx.volumes.lock, async () => {
    const others = ctx.containers.all().filter((o) => o.id !== c.id);
    for (const v of anonymous) if (ctx.volumes.find(v)) ctx.volumes.remove(v, others);
  });
}

async function forEachRef(refs: string[], what: string, fn: (ref: string) => Promise<void>, noneOk = false): Promise<number> {
  if (refs.length === 0 && !noneOk) throw new UsageError(`${what}: at least one container is required`);
  let code: number = Exit.Ok;
  for (const r of refs) {
    try {
      await fn(r);
    } catch (err) {
      process.stderr.write(`tscni: ${(err as Error).message}\n`);
      code = err instanceof RunnerError ? err.exitCode : Exit.Failure;
    }
  }
  return code;
}

export async function stop(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { values: ['time'], aliases: { t: 'time' } }, 'stop');
  if (printHelpIfAsked('stop', p, out)) return Exit.Ok;
  const secs = str(p, 'time') === undefined ? 10 : Number(str(p, 'time'));
  if (!Number.isFinite(secs) || secs < 0) throw new UsageError(`invalid --time ${str(p, 'time')}: expected seconds`);
  return forEachRef(p.positionals, 'stop', async (r) => {
    const c = await refreshState(ctx, ctx.containers.resolve(r));
    await stopContainer(ctx, c, secs);
    out(r + '\n');
  });
}

export async function start(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, {}, 'start');
  if (printHelpIfAsked('start', p, out)) return Exit.Ok;
  return forEachRef(p.positionals, 'start', async (r) => {
    const c = await refreshState(ctx, ctx.containers.resolve(r));
    if (c.status === 'running') {
      out(r + '\n');
      return;
    }
    await startStopped(ctx, c);
    out(r + '\n');
  });
}

async function startStopped(ctx: Ctx, c: ContainerState): Promise<void> {
  const image = c.rootfsDir ? undefined : ctx.images.get(c.image);
  const onSignal = () => (interrupt.requested = true);
  process.on('SIGINT', onSignal);
  const neverStarted = createdOnly(c);
  try {
    await withPortsCheck(ctx, c);
    await startContainer(ctx, c, image ? ctx.images.layerDirs(image) : undefined);
  } catch (err) {
    // A created container whose first start failed (its undo stack gave everything back) stays created, as docker's.
    if (neverStarted) {
      await ctx.containers.locked(c.id, async () => {
        const cur = ctx.containers.load(c.id);
        if (cur && cur.status === 'created') ctx.containers.save({ ...cur, setupPid: undefined, monitorPid: undefined, released: true });
      });
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/**
 * `tscni boot` (after a reboot, e.g. from a systemd unit): containers whose monitor is gone are recorded as exited
 * and what they held is released (a DEL with the cached config forgives a vanished netns, veth or nft table);
 * then those with --restart always (or unless-stopped, not stopped by a user) start again with their name, ports
 * and address (the old address is asked of IPAM from now on).
 */
export async function boot(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, {}, 'boot');
  if (printHelpIfAsked('boot', p, out)) return Exit.Ok;
  if (p.positionals.length) throw new UsageError('boot: takes no arguments');
  await (await import('../overlay/network.ts')).bootOverlays(ctx, out);
  const all = await Promise.all(ctx.containers.all().map((c) => refreshState(ctx, c)));
  const due = all.filter((c) => c.status === 'exited' && startsAtBoot(c));
  return forEachRef(due.map((c) => c.name), 'boot', async (name) => {
    const c = ctx.containers.resolve(name);
    if (!c.requestedIp && c.networkSettings?.IPAddress) c.requestedIp = c.networkSettings.IPAddress;
    await startStopped(ctx, c);
    out(name + '\n');
  }, true);
}

/** Re-reserves a stopped container's ports under the global lock, as run does for a new one. */
async function withPortsCheck(ctx: Ctx, c: ContainerState): Promise<void> {
  await withLock(ctx.containers.globalLock, async () => {
    await checkPortsFreeOfOthers(ctx, c.ports, c.id);
    c.status = 'created';
    c.setupPid = process.pid;
    c.monitorPid = undefined;
    ctx.containers.save(c);
  });
}

export async function rm(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['force', 'volumes'], aliases: { f: 'force', v: 'volumes' } }, 'rm');
  if (printHelpIfAsked('rm', p, out)) return Exit.Ok;
  return forEachRef(p.positionals, 'rm', async (r) => {
    let c = await refreshState(ctx, ctx.containers.resolve(r));
    const joiners = [];
    for (const j of joinersOf(ctx.containers.all(), c)) if ((await refreshState(ctx, j)).status !== 'exited') joiners.push(j.name);
    if (joiners.length && !bool(p, 'force')) {
      throw conflict(`cannot remove container ${r}: ${joiners.join(', ')} share${joiners.length === 1 ? 's' : ''} its network namespace (--network container:${c.name}); remove ${joiners.length === 1 ? 'it' : 'them'} first or use rm -f`);
    }
    if (c.status !== 'exited' && !createdOnly(c)) {
      if (!bool(p, 'force')) throw conflict(`cannot remove container ${r}: it is ${c.status}; stop it first or use rm -f`);
      c = await stopContainer(ctx, c, 0);
    }
    const problems = await destroyContainer(ctx, c);
    if (bool(p, 'volumes')) await removeAnonymousVolumes(ctx, c);
    if (problems.length) throw new RunnerError(`removed ${r}, but cleanup reported: ${problems.join('; ')}`);
    out(r + '\n');
  });
}
