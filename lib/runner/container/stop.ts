// Stopping and the truth about exits: SIGTERM then SIGKILL, waiting for the monitor's record, and recording
// containers whose monitor vanished (a crash, a reboot) as exited with docker's 255.

import { createdOnly, type ContainerState } from './store.ts';
import type { Ctx } from '../context.ts';
import { RunnerError } from '../cli/errors.ts';
import { releaseContainer } from './lifecycle.ts';
import * as runtime from './runtime.ts';
import { alive } from './pid.ts';
import { trace } from '../trace.ts';

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * Makes the recorded state tell the truth: a "running" container whose monitor is gone and which runc no longer
 * runs (a crash, a reboot) is recorded as exited with 255, docker's code for an unknown exit.
 */
export async function refreshState(ctx: Ctx, c: ContainerState): Promise<ContainerState> {
  if (c.status === 'exited' || alive(c.monitorPid) || createdOnly(c)) return c;
  // Still being set up by a live run/start: its own undo stack owns the outcome.
  if (c.status === 'created' && !c.monitorPid && alive(c.setupPid)) return c;
  const st = await runtime.state(ctx.runtime(c.runtime), c.id);
  if (st && st.status === 'running') return c;
  return ctx.containers.locked(c.id, async () => {
    const cur = ctx.containers.load(c.id) ?? c;
    if (cur.status === 'exited' || alive(cur.monitorPid) || createdOnly(cur)) return cur;
    if (cur.status === 'created' && !cur.monitorPid && alive(cur.setupPid)) return cur;
    cur.status = 'exited';
    cur.exitCode = cur.exitCode ?? 255;
    cur.finishedAt = cur.finishedAt ?? new Date().toISOString();
    cur.error = cur.error ?? 'the container monitor is gone (host reboot or crash): exit status unknown';
    // Give back what it held (ports, lease, netns, mount) so "exited" means the same as after a normal exit.
    await releaseContainer(ctx, cur);
    ctx.containers.save(cur);
    return cur;
  });
}

/** Stops a running container: TERM, then KILL after `timeoutSec`; waits for the monitor to record the exit. */
export async function stopContainer(ctx: Ctx, c: ContainerState, timeoutSec: number): Promise<ContainerState> {
  const rt = ctx.runtime(c.runtime);
  const waitExited = async (ms: number) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = ctx.containers.load(c.id);
      if (!s || s.status === 'exited') return s;
      if (!alive(s.monitorPid)) return refreshState(ctx, s);
      if (Date.now() > deadline) return undefined;
      await sleep(20);
    }
  };
  // First, so the monitor does not restart what we stop (and unless-stopped stays down at boot).
  await ctx.containers.locked(c.id, async () => {
    const cur = ctx.containers.load(c.id);
    if (cur && !cur.stopRequested) ctx.containers.save({ ...cur, stopRequested: true });
  }).catch((err) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  });
  if (c.status !== 'exited') {
    let s: ContainerState | undefined;
    if (timeoutSec > 0) {
      await runtime.kill(rt, c.id, 'TERM');
      s = await waitExited(timeoutSec * 1000);
    }
    if (!s) {
      await runtime.kill(rt, c.id, 'KILL');
      s = await waitExited(10_000);
    }
    trace('container exited');
  }
  // The monitor releases everything itself before recording the exit; release here only what it could not.
  return ctx.containers.locked(c.id, async () => {
    const cur = ctx.containers.load(c.id) ?? c;
    if (cur.released) return cur;
    const problems = await releaseContainer(ctx, cur);
    if (cur.status === 'exited') ctx.containers.save(cur);
    if (problems.length) throw new RunnerError(`stopped ${cur.name}, but releasing it failed: ${problems.join('; ')}`);
    return cur;
  });
}
