// The per-container monitor (`tscni __monitor <id>`, detached): runs `runc run` in the foreground, writes the
// container's output as JSON lines with timestamps, records running/exit status, and releases the network on exit.
// An attached run (-i without -t in the foreground) does the same work in the `tscni run` process itself
// (`supervise`), with runc on our stdin. A -t run, foreground or not, has its pty kept here (tty/console.ts).

import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeCtx, type Ctx } from '../context.ts';
import { restartDelayMs, shouldRestart } from './restart.ts';
import { destroyContainer, GO_ATTACH, GO_FILE, readGo, releaseContainer } from './lifecycle.ts';
import * as runtime from './runtime.ts';
import { alive, readPid } from './pid.ts';
import { trace } from '../trace.ts';
import { pipeLines, type Echo } from './output.ts';
import { runConsoleOnce } from '../tty/console.ts';
import { serveAttachIn } from '../tty/attach-server.ts';
import type { Writable } from 'node:stream';

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGUSR1: 10, SIGUSR2: 12, SIGPIPE: 13 };

/** The runtime's own error (runc --log json), when it failed before the process ran. */
function runtimeError(logFile: string): string | undefined {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  const errs = text.split('\n').filter(Boolean).map((l) => {
    try {
      return JSON.parse(l) as { level?: string; msg?: string };
    } catch {
      return { level: 'error', msg: l };
    }
  }).filter((e) => e.level === 'error' || e.level === 'fatal');
  return errs.length ? errs.map((e) => e.msg).join('; ') : undefined;
}

export async function monitorMain(args: string[]): Promise<number> {
  try {
    return await monitor(args);
  } catch (err) {
    // The container was removed under us (rm -f raced the exit): nothing is left to record.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/**
 * The monitor is spawned while the network is still being set up (its start-up hides behind the CNI ADD):
 * it waits for the `go` file the setup writes once the bundle is complete, and gives up if the setup died.
 */
async function waitForGo(dir: string, setupPid: number | undefined): Promise<boolean> {
  for (;;) {
    if (existsSync(join(dir, GO_FILE))) return true;
    if (!existsSync(dir) || !alive(setupPid)) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * How runc's stdio is wired: stdin, and where an attached run shows output. `console`: a -t run, whose pty the
 * monitor receives and keeps (tty/console.ts); `holdForClient`: a foreground `run -t` is about to attach.
 */
export interface RunIo {
  stdin: 'ignore' | 'inherit' | 'pipe';
  echo: Echo;
  console?: { openStdin: boolean; holdForClient?: boolean };
}

/** Records the container as running with `pid` (unless it was recorded as exited meanwhile). */
async function markRunning(ctx: Ctx, id: string, pid: number): Promise<void> {
  await ctx.containers.locked(id, async () => {
    const cur = ctx.containers.load(id);
    if (cur && cur.status !== 'exited') {
      if (cur.status === 'created') cur.startedAt = new Date().toISOString();
      cur.status = 'running';
      cur.pid = pid;
      ctx.containers.save(cur);
    }
  });
  trace('runc wrote the pid file');
}

/** One run of the process: `runc run`, output to the log, "running" once runc wrote the pid file. */
async function runOnce(ctx: Ctx, id: string, rt: runtime.RuntimeRef, dir: string, runtimeLog: string, pidFile: string, logFile: string, runtimeName: string, io: RunIo): Promise<{ exitCode: number; startError?: string }> {
  if (io.console) {
    const r = await runConsoleOnce(rt, id, dir, runtimeLog, pidFile, logFile, io.console.openStdin, (pid) => markRunning(ctx, id, pid), io.console.holdForClient);
    io.console.holdForClient = false; // a restart is nobody's to wait for
    return { exitCode: r.exitCode, startError: r.startError === undefined ? undefined : `${runtimeName}: ${r.startError}` };
  }
  rmSync(pidFile, { force: true });
  // Detached: `tscni attach` clients get the output (stdout and stderr apart) and the exit code over attach.sock;
  // with -i, what they send goes to runc's stdin pipe.
  let stdin: Writable | null = null;
  const attach = io.echo ? undefined : await serveAttachIn(dir, { input: io.stdin === 'pipe' ? (b) => void stdin?.write(b) : undefined });
  try {
    const child = await runtime.spawnRun(rt, id, dir, runtimeLog, pidFile, io.stdin);
    stdin = child.stdin;
    const echo: Echo = io.echo ?? (attach ? (chunk, stream) => attach.broadcast(chunk, stream) : undefined);
    const logs = Promise.all([pipeLines(child.stdout!, 'stdout', logFile, echo), pipeLines(child.stderr!, 'stderr', logFile, echo)]);
    let done = false;
    const exited = child.ended.then((r) => {
      done = true;
      return r;
    });
    // Mark running as soon as runc writes the pid file (after the process is created, right before it starts;
    // a stat is far cheaper than asking `runc state`). The `run` client waits for this.
    while (!done) {
      const pid = readPid(pidFile);
      if (pid) {
        await markRunning(ctx, id, pid);
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const { exitCode: code, signal, startError: notStarted } = await exited;
    await logs;
    const exitCode = code ?? 128 + (signal ? SIGNALS[signal] ?? 0 : 0);
    attach?.exited(exitCode);
    // The runtime itself could not be started (removed since run checked it): that is the start's error.
    return { exitCode, startError: notStarted === undefined ? undefined : `${runtimeName}: ${notStarted}` };
  } finally {
    await attach?.close();
  }
}

async function monitor(args: string[]): Promise<number> {
  const id = args[0] ?? '';
  const ctx = makeCtx();
  const dir = ctx.containers.dir(id);
  if (!(await waitForGo(dir, Number(args[1]) || undefined))) return 0;
  // -d -i: stdin stays open (a pipe no one writes), as docker's OpenStdin; nothing is shown.
  const c = ctx.containers.load(id);
  if (!c) return 1;
  // -d -t: the monitor receives and keeps the pty (tty/console.ts).
  // GO_FILE saying "attach": a foreground `run -t` connects as soon as the process runs (GO_ATTACH).
  const consoleIo = c.tty ? { openStdin: c.openStdin === true, holdForClient: readGo(dir) === GO_ATTACH } : undefined;
  await supervise(ctx, id, { stdin: c.openStdin ? 'pipe' : 'ignore', echo: undefined, console: consoleIo });
  return 0;
}

/**
 * Runs the container (again, by its restart policy) until it stays down, records the exit and releases what it
 * held; then removes it when it was run with --rm -d. The caller reads the outcome from the state.
 */
export async function supervise(ctx: Ctx, id: string, io: RunIo): Promise<void> {
  const dir = ctx.containers.dir(id);
  const c = ctx.containers.load(id);
  if (!c) return;
  const rt = ctx.runtime(c.runtime);
  const runtimeLog = join(dir, 'runtime.log');
  const logFile = join(dir, 'container.log');
  trace('monitor up');
  const pidFile = join(dir, 'pid');
  let exitCode: number;
  let startError: string | undefined;
  for (let restarts = c.restartCount ?? 0; ; restarts++) {
    ({ exitCode, startError } = await runOnce(ctx, id, rt, dir, runtimeLog, pidFile, logFile, c.runtime, io));
    const cur = ctx.containers.load(id);
    if (!cur || startError || !shouldRestart(cur.restartPolicy, exitCode, restarts, cur.stopRequested === true)) break;
    await ctx.containers.locked(id, async () => {
      const s = ctx.containers.load(id);
      if (!s) return;
      s.restartCount = restarts + 1;
      s.exitCode = exitCode;
      s.pid = undefined;
      ctx.containers.save(s);
    });
    await new Promise((r) => setTimeout(r, restartDelayMs(restarts)));
    if (ctx.containers.load(id)?.stopRequested) break;
    await runtime.remove(rt, id);
  }
  let autoRemove = false;
  await ctx.containers.locked(id, async () => {
    const cur = ctx.containers.load(id);
    if (!cur) return;
    const neverRan = cur.status === 'created';
    cur.status = 'exited';
    cur.exitCode = exitCode;
    cur.finishedAt = new Date().toISOString();
    // runc logs errors only for its own failures (the process could not be started), never for the process's exit.
    if (neverRan || exitCode !== 0) cur.error = startError ?? runtimeError(runtimeLog);
    if (!cur.startedAt) cur.startedAt = cur.finishedAt;
    cur.pid = undefined;
    // Release first, so "exited" always means the network and the rootfs are already given back.
    const problems = await releaseContainer(ctx, cur);
    if (problems.length) process.stderr.write(`tscni monitor ${id}: ${problems.join('; ')}\n`);
    ctx.containers.save(cur);
    autoRemove = cur.autoRemove === true && !cur.error;
  });
  if (autoRemove) await destroyContainer(ctx, ctx.containers.load(id)!);
}
