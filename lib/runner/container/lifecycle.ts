// lib/runner/container: a container's life on runc. It owns the state store (store.ts), the named netns
// (named-netns.ts), published ports (ports.ts), the /etc files, rootfs and OCI bundle, the runtime seam
// (runtime.ts), the detached monitor, stop and the logs. This file: starting and tearing down a container —
// network (network-attach.ts, per mode) → /etc files → rootfs → bundle → monitor (runc run), each step on an undo stack; teardown is
// idempotent (runc, CNI DEL with the cached config, netns, mount).

import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start } from '../../exec/process.ts';
import type { ContainerState } from './store.ts';
import type { Ctx } from '../context.ts';
import { RunnerError, Exit } from '../cli/errors.ts';
import { withLock } from '../lock.ts';
import { attachNetwork, detachNetwork } from './network/network-attach.ts';
import { selfExecutable } from '../paths.ts';
import { mountOverlay, rootfsPaths, unmountOverlay } from './rootfs.ts';
import { ociSpec, writeBundle } from './bundle.ts';
import { prepareMounts } from '../volume/oci-mounts.ts';
import * as runtime from './runtime.ts';
import { UndoStack } from '../../util/undo.ts';
import { trace } from '../trace.ts';

export { IFNAME, networkSettingsFrom } from './network/network-attach.ts';

export class Aborted extends RunnerError {
  constructor() {
    super('interrupted: cleaned up', 130);
  }
}

/** Set by a SIGINT/SIGTERM handler while a start is in progress; checked between steps. */
export const interrupt = { requested: false };

function checkpoint(): void {
  if (interrupt.requested) throw new Aborted();
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Written when the bundle is complete: the monitor (started early) then runs the container. */
export const GO_FILE = 'go';
/** GO_FILE's text when a client attaches right after the start (a foreground `run -t`). */
export const GO_ATTACH = 'attach';

export function readGo(dir: string): string {
  try {
    return readFileSync(join(dir, GO_FILE), 'utf8');
  } catch {
    return '';
  }
}

/** Spawns the monitor (a detached tscni that waits for GO_FILE, runs `runc run` and records the exit). */
async function spawnMonitor(ctx: Ctx, c: ContainerState): Promise<number> {
  const dir = ctx.containers.dir(c.id);
  const fd = openSync(join(dir, 'monitor.log'), 'a');
  try {
    const child = await start(process.execPath, [selfExecutable(), '__monitor', c.id, String(process.pid)], { detached: true, stdio: ['ignore', fd, fd] });
    child.unref();
    return child.pid ?? 0;
  } finally {
    closeSync(fd);
  }
}

/**
 * How the process is started: by a detached monitor (the default), or `attached`: by the calling `tscni run`
 * itself (monitor.ts's `supervise`, on our stdin and terminal), which then owns the container's whole run.
 */
export interface StartMode {
  attached?: boolean;
  /** Detached, with a client attaching at once (a foreground `run -t`): the monitor keeps the output for it. */
  client?: boolean;
}

/** Why --init cannot be honoured on this host, or undefined when it can. */
export function initProblem(path: string): string | undefined {
  if (runtime.runtimeProblem(path) === undefined) return undefined;
  return `--init needs ${path} (a static tini), which is not installed: apt-get install tini`;
}

/**
 * Brings a created or exited container up. On any failure everything done so far is undone. Attached, it returns
 * once the bundle is ready (status still "created"): the caller runs it with `supervise`.
 */
export async function startContainer(ctx: Ctx, c: ContainerState, imageLayers: string[] | undefined, mode: StartMode = {}): Promise<ContainerState> {
  const dir = ctx.containers.dir(c.id);
  const undo = new UndoStack();
  rmSync(join(dir, GO_FILE), { force: true });
  await ctx.containers.locked(c.id, async () => {
    c.status = 'created';
    c.released = false;
    c.setupPid = process.pid;
    c.exitCode = undefined;
    c.finishedAt = undefined;
    c.error = undefined;
    c.startedAt = undefined;
    c.stopRequested = false;
    c.restartCount = 0;
    // Started now so its Node start-up overlaps the network setup; it waits for GO_FILE. Attached, we are the monitor.
    c.monitorPid = mode.attached ? process.pid : await spawnMonitor(ctx, c);
    ctx.containers.save(c);
  });
  trace('monitor spawned');
  const monitorPid = c.monitorPid;
  try {
    const net = await attachNetwork(ctx, c, dir, undo, checkpoint);
    c.networkSettings = net.settings;
    checkpoint();
    let rootfs = c.rootfsDir ?? '';
    if (!c.rootfsDir) {
      const rp = rootfsPaths(dir);
      await mountOverlay(imageLayers ?? [], rp);
      undo.push('rootfs overlay', () => unmountOverlay(rp));
      rootfs = rp.merged;
      trace('rootfs mounted');
    }
    checkpoint();
    const mounts = await prepareMounts(c.mounts ?? [], ctx.volumes, rootfs);
    const initBad = c.init ? initProblem(ctx.paths.initBinary) : undefined;
    if (initBad) throw new RunnerError(initBad, Exit.RunFailed);
    const initPath = c.init ? ctx.paths.initBinary : undefined;
    writeBundle(dir, ociSpec(c, { rootfs, containerDir: dir, netnsPath: net.netnsPath, mounts, terminal: c.tty === true, initPath }));
    const rt = ctx.runtime(c.runtime);
    undo.push('runtime container', () => runtime.remove(rt, c.id));
    checkpoint();
    await ctx.containers.locked(c.id, async () => ctx.containers.save(c));
    // Written whole, then renamed: the monitor reads it as soon as it exists.
    writeFileSync(join(dir, `${GO_FILE}.tmp`), mode.client ? GO_ATTACH : '');
    renameSync(join(dir, `${GO_FILE}.tmp`), join(dir, GO_FILE));
    if (mode.attached) return c;
    // The monitor marks the container running (or exited, with the runtime's error) once runc answers.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const s = ctx.containers.load(c.id);
      if (s && s.status !== 'created') {
        if (s.status === 'exited' && s.error) throw new RunnerError(`${c.runtime} could not start the container: ${s.error}`, Exit.RunFailed);
        trace(`container ${s.status}`);
        return s;
      }
      if (interrupt.requested) {
        await runtime.kill(rt, c.id, 'KILL');
        throw new Aborted();
      }
      if (Date.now() > deadline) throw new RunnerError(`container ${c.name} did not start within 30s`, Exit.RunFailed);
      await sleep(15);
    }
  } catch (err) {
    // A monitor still waiting for GO_FILE is not needed any more (one already running records the exit).
    if (monitorPid && !mode.attached && !existsSync(join(dir, GO_FILE))) {
      try {
        process.kill(monitorPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // Best effort: the first failure is the one reported, not the cleanup's.
    await undo.unwind();
    throw err;
  }
}

/**
 * Releases what a container holds while not running: the runc container, the chain (DEL with the config it was
 * ADDed with, so a since-removed network still cleans up), the netns and the overlay mount. Safe to repeat.
 */
export async function releaseContainer(ctx: Ctx, c: ContainerState): Promise<string[]> {
  if (c.released) return [];
  const problems: string[] = [];
  const rt = ctx.runtime(c.runtime);
  await runtime.remove(rt, c.id).catch((e) => problems.push(`runtime: ${(e as Error).message}`));
  trace('runtime container deleted');
  await detachNetwork(ctx, c, problems);
  if (!c.rootfsDir) await unmountOverlay(rootfsPaths(ctx.containers.dir(c.id))).catch((e) => problems.push(`rootfs: ${(e as Error).message}`));
  trace('rootfs unmounted');
  // Callers that save the state afterwards make later releases (stop, rm) free.
  if (problems.length === 0) c.released = true;
  return problems;
}

/** Removes a container's state after releasing everything (caller made sure it is not running). */
export async function destroyContainer(ctx: Ctx, c: ContainerState): Promise<string[]> {
  let problems: string[];
  try {
    problems = await ctx.containers.locked(c.id, () => releaseContainer(ctx, c));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    problems = await releaseContainer(ctx, c); // its directory is already gone: release what the state names
  }
  await withLock(ctx.containers.globalLock, async () => {
    ctx.containers.unregister(c.id);
    ctx.containers.removeDir(c.id);
  });
  return problems;
}
