// `tscni run`: create.ts validates everything and reserves the name and ports under the global lock, then this
// starts the container on an undo stack (and, in the foreground, streams its output until it exits).

import { bool, str } from './args/argv.ts';
import { attachTerminal } from '../tty/attach.ts';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../tty/detach-keys.ts';
import type { ContainerState } from '../container/store.ts';
import type { Ctx } from '../context.ts';
import { Exit } from './errors.ts';
import { destroyContainer, interrupt, startContainer } from '../container/lifecycle.ts';
import { stopContainer } from '../container/stop.ts';
import { pickHostPorts } from '../container/network/port-pick.ts';
import { capabilityArgsFor } from '../../libcni/capability-args.ts';
import { addNetworkList } from '../../libcni/chain.ts';
import { printLogs } from '../container/logs.ts';
import { trace } from '../trace.ts';
import { prepareContainer, reserveContainer } from './create.ts';
import { kernelPorts } from '../container/network/loopback-proxy.ts';
import { runAttached } from '../container/attached.ts';

export async function runCommand(ctx: Ctx, argv: string[], out: (s: string) => void): Promise<number> {
  const prep = await prepareContainer(ctx, argv, 'run', out);
  if (!prep) return Exit.Ok;
  const { c, image, portReqs, netList, p } = prep;
  const { id, name, network, rootfsDir, cmd } = c;
  const detach = bool(p, 'detach');
  const [tty, interactive] = [bool(p, 'tty'), bool(p, 'interactive')];

  if (bool(p, 'dry-run')) {
    if (!netList) {
      out(`# dry run: container ${name} in network mode ${network}: no CNI chain; nothing is changed\n`);
      return Exit.Ok;
    }
    // The ports a run would pick now (without the lock: a plan, not a reservation).
    c.ports = await pickHostPorts(ctx, portReqs);
    out(`# dry run: container ${name} on network ${network} (${netList.file}); nothing is changed\n`);
    await addNetworkList(netList, { containerId: id, netns: `${ctx.paths.netnsDir}/${id}`, ifName: 'eth0', capabilityArgs: capabilityArgsFor({ ...c, ports: kernelPorts(c.ports) }) }, ctx.chain({ dryRun: true, onPlan: (e) => out(JSON.stringify(e, null, 2) + '\n') }));
    out(`# then: ${c.runtime} run ${id} (rootfs ${rootfsDir ?? `overlay of ${image?.layers.length} layer(s) of ${c.image}`}, cmd ${JSON.stringify(cmd)})\n`);
    return Exit.Ok;
  }

  trace('validated');
  await reserveContainer(ctx, c, portReqs);

  trace('name and ports reserved');
  const onSignal = () => {
    interrupt.requested = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let started: ContainerState;
  // -t in the foreground: the monitor keeps the pty (as for -dt) and this process attaches to it at once, so the
  // detach keys work as under docker. -i alone: this process runs the container itself, on our stdin.
  const onTerminal = !detach && tty;
  const attached = !detach && interactive && !tty;
  try {
    started = await startContainer(ctx, c, image ? ctx.images.layerDirs(image) : undefined, attached ? { attached: true } : onTerminal ? { client: true } : {});
  } catch (err) {
    await destroyContainer(ctx, ctx.containers.load(id) ?? c).catch(() => undefined);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (detach) {
    out(id + '\n');
    return Exit.Ok;
  }
  if (onTerminal) return runOnTerminal(ctx, started, bool(p, 'rm'), parseDetachKeys(str(p, 'detach-keys') ?? DEFAULT_DETACH_KEYS));
  if (attached) return runAttached(ctx, started, bool(p, 'rm'));
  return attach(ctx, started, bool(p, 'rm'), out);
}

/**
 * Foreground -t: this terminal on the container's pty until the process ends (its exit code; --rm removes it), or
 * until the detach keys: then it keeps running, and --rm is left to its monitor (removed when it exits).
 */
async function runOnTerminal(ctx: Ctx, c: ContainerState, rm: boolean, seq: number[]): Promise<number> {
  const r = await attachTerminal(ctx, c, seq, true);
  if (r.detached) {
    if (!rm) return Exit.Ok;
    const exited = await ctx.containers.locked(c.id, async () => {
      const s = ctx.containers.load(c.id);
      if (s && s.status !== 'exited') {
        s.autoRemove = true;
        ctx.containers.save(s);
      }
      return s?.status === 'exited' ? s : undefined;
    });
    if (exited) await destroyContainer(ctx, exited);
    return Exit.Ok;
  }
  const s = ctx.containers.load(c.id);
  if (rm && s) await destroyContainer(ctx, s);
  return r.exitCode;
}

/** Foreground: streams the output until the container exits; Ctrl-C stops it. Exits with the container's code. */
async function attach(ctx: Ctx, c: ContainerState, rm: boolean, out: (s: string) => void): Promise<number> {
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void stopContainer(ctx, c, 10);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await printLogs(ctx, c, { follow: true, timestamps: false, tail: undefined }, out, (s) => process.stderr.write(s));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  let s = ctx.containers.load(c.id) ?? c;
  for (let i = 0; i < 500 && s.status !== 'exited'; i++) {
    await new Promise((r) => setTimeout(r, 20));
    s = ctx.containers.load(c.id) ?? s;
  }
  const code = s.exitCode ?? 255;
  if (rm) await destroyContainer(ctx, s);
  return code;
}
