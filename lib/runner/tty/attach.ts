// `tscni attach NAME` (docker's), and a foreground `run -t`'s own attach: this terminal on a -t container's pty
// through its monitor's attach.sock (attach-server.ts): the output as it comes, what is typed (when the container
// keeps stdin open), the window size now and on every SIGWINCH. The detach keys (Ctrl-P Ctrl-Q, or --detach-keys)
// leave the container running; when its process ends, attach exits with its exit code (also when the restart policy
// runs it again). A container without -t: its stdout and stderr from now on, our stdin with -i, and SIGINT/SIGTERM
// passed to it (docker's sig-proxy).

import { closeSync, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Ctx } from '../context.ts';
import { parseArgs, str } from '../cli/args/argv.ts';
import { Exit, RunnerError, UsageError } from '../cli/errors.ts';
import type { ContainerState } from '../container/store.ts';
import * as runtime from '../container/runtime.ts';
import { DEFAULT_DETACH_KEYS, detachKeys, parseDetachKeys } from './detach-keys.ts';
import { printHelpIfAsked } from '../cli/help.ts';
import { refreshState } from '../container/stop.ts';
import { getWindowSize, makeRaw, restoreTerminal } from '../../kernel/unix-fd.ts';
import { ATTACH_SOCKET, frame, FRAME_EXIT, FRAME_INPUT, FRAME_OUTPUT, FRAME_STDERR, frameReader, resizeFrame } from './attach-server.ts';

type Out = (s: string) => void;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectAttach(dir: string): Promise<Socket> {
  // Through the directory's fd: the socket's full path can be longer than a unix socket address holds.
  const dirFd = openSync(dir, 'r');
  try {
    for (let tries = 0; ; tries++) {
      try {
        return await new Promise<Socket>((resolve, reject) => {
          const s = connect(`/proc/self/fd/${dirFd}/${ATTACH_SOCKET}`, () => resolve(s));
          s.once('error', reject);
        });
      } catch (err) {
        // The monitor serves it once runc runs the process (for -t, once it handed over the pty): a container that
        // just started may not yet.
        if (tries >= 40) throw new RunnerError(`cannot attach: the container's monitor does not answer (${(err as Error).message})`);
        await sleep(50);
      }
    }
  } finally {
    closeSync(dirFd);
  }
}

/**
 * Waits for the monitor to record the end (after it released the network) of the process attach followed: the
 * container exited, or its restart policy runs it again (`restarts` grew). Its exit code; `told`, what the monitor
 * said over attach.sock, when the state is gone (--rm removed it).
 */
async function exitCodeOf(ctx: Ctx, id: string, restarts: number, told?: number): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const s = ctx.containers.load(id);
    if (!s) return told ?? 255;
    if (s.status === 'exited' || (s.restartCount ?? 0) > restarts) return s.exitCode ?? 255;
    await sleep(50);
  }
  return 255;
}

/** Reads the monitor's frames off `sock`: output to our stdout/stderr, the exit code into `told.code`. */
function readFrames(sock: Socket, told: { code?: number }): void {
  sock.on('data', frameReader((f) => {
    if (f.type === FRAME_OUTPUT) process.stdout.write(f.payload);
    else if (f.type === FRAME_STDERR) process.stderr.write(f.payload);
    else if (f.type === FRAME_EXIT && f.payload.length === 4) told.code = f.payload.readInt32BE(0);
  }));
}

/** Settles when the monitor (or a detach) has closed the connection. */
const closed = (sock: Socket) => new Promise<void>((resolve) => {
  sock.on('close', () => resolve());
  sock.on('error', () => undefined);
});

/** Our stdin, as input frames (up to 0xffff bytes each). */
const sendInput = (sock: Socket, pass: Buffer) => {
  for (let off = 0; off < pass.length; off += 0xffff) sock.write(frame(FRAME_INPUT, pass.subarray(off, off + 0xffff)));
};

/**
 * A container without -t: its output from now on (stdout and stderr apart), what we read on stdin when it keeps
 * stdin open (-i), our SIGINT/SIGTERM passed to it (docker's sig-proxy), until the process ends: its exit code.
 */
async function attachOutput(ctx: Ctx, c: ContainerState): Promise<number> {
  const restarts = c.restartCount ?? 0;
  const sock = await connectAttach(ctx.containers.dir(c.id));
  const rt = ctx.runtime(c.runtime);
  const proxy = (sig: 'INT' | 'TERM') => () => void runtime.kill(rt, c.id, sig).catch(() => undefined);
  const [onInt, onTerm] = [proxy('INT'), proxy('TERM')];
  const told: { code?: number } = {};
  readFrames(sock, told);
  const input = c.openStdin === true;
  const onInput = (d: Buffer) => sendInput(sock, d);
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  if (input) process.stdin.on('data', onInput);
  try {
    await closed(sock);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    if (input) {
      process.stdin.off('data', onInput);
      process.stdin.pause();
      process.stdin.destroy();
    }
  }
  return exitCodeOf(ctx, c.id, restarts, told.code);
}

export async function attachCommand(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: [], values: ['detach-keys'] }, 'attach');
  if (printHelpIfAsked('attach', p, out)) return Exit.Ok;
  if (p.positionals.length !== 1) throw new UsageError('attach: exactly one container is required');
  const seq = parseDetachKeys(str(p, 'detach-keys') ?? DEFAULT_DETACH_KEYS);
  const c = await refreshState(ctx, ctx.containers.resolve(p.positionals[0]!));
  if (c.status !== 'running') throw new RunnerError('You cannot attach to a stopped container, start it first');
  if (!c.tty) return attachOutput(ctx, c);
  const r = await attachTerminal(ctx, c, seq);
  return r.detached ? Exit.Ok : r.exitCode;
}

export interface TerminalAttach {
  detached: boolean;
  /** The process's exit code (when not detached). */
  exitCode: number;
}

/**
 * This terminal on a running -t container's pty until its process ends or the `seq` keys are typed. With -i what
 * is typed goes to the pty (this terminal in raw mode); without, nothing is read and the terminal stays as it is, so
 * Ctrl-C is a SIGINT here: a detach for `attach`, passed to the container for a foreground `run -t` (docker's
 * `run -t` without -i cannot be stopped that way). `signals` (run): SIGTERM passed on, SIGHUP (the terminal gone)
 * taken as a detach.
 */
export async function attachTerminal(ctx: Ctx, c: ContainerState, seq: readonly number[], signals = false): Promise<TerminalAttach> {
  const restarts = c.restartCount ?? 0;
  const input = c.openStdin === true;
  // docker's raw mode (cfmakeraw) at once, before the socket: keys typed meanwhile are not echoed here as well.
  const saved = input ? makeRaw(0) : undefined;
  let sock: Socket;
  try {
    sock = await connectAttach(ctx.containers.dir(c.id));
  } catch (err) {
    if (saved) restoreTerminal(0, saved);
    throw err;
  }
  const sendSize = () => {
    const ws = getWindowSize(1) ?? getWindowSize(0);
    if (ws && !sock.destroyed) sock.write(resizeFrame(ws.rows, ws.cols));
  };
  const keys = detachKeys(seq);
  let detached = false;
  const detach = () => {
    detached = true;
    sock.destroy();
  };
  const onInput = (d: Buffer) => {
    const { pass, detach: typed } = keys(d);
    sendInput(sock, pass);
    if (typed) detach();
  };
  const rt = ctx.runtime(c.runtime);
  const onTerm = () => void runtime.kill(rt, c.id, 'TERM').catch(() => undefined);
  const onInt = signals ? () => void runtime.kill(rt, c.id, 'INT').catch(() => undefined) : detach;
  if (input) process.stdin.on('data', onInput);
  else process.on('SIGINT', onInt);
  process.on('SIGWINCH', sendSize);
  if (signals) {
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', detach);
  }
  sendSize();
  const told: { code?: number } = {};
  readFrames(sock, told);
  try {
    await closed(sock);
  } finally {
    process.off('SIGWINCH', sendSize);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', detach);
    process.off('SIGINT', onInt);
    if (input) {
      process.stdin.off('data', onInput);
      if (saved) restoreTerminal(0, saved);
      process.stdin.pause();
      process.stdin.destroy();
    }
  }
  return detached ? { detached, exitCode: 0 } : { detached, exitCode: await exitCodeOf(ctx, c.id, restarts, told.code) };
}
