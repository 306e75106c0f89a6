// `tscni attach NAME` (docker's): connects this terminal to a detached -t container's pty through its monitor's
// attach.sock (attach-server.ts): the output as it comes, what is typed (when the container keeps stdin open),
// the window size now and on every SIGWINCH. Ctrl-P Ctrl-Q (docker's default keys) detaches and leaves the
// container running; when the container ends, attach exits with its exit code.

import { closeSync, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Ctx } from '../context.ts';
import { parseArgs } from '../cli/args/argv.ts';
import { Exit, RunnerError, UsageError } from '../cli/errors.ts';
import { printHelpIfAsked } from '../cli/help.ts';
import { refreshState } from '../container/stop.ts';
import { getWindowSize, makeRaw, restoreTerminal } from '../../kernel/unix-fd.ts';
import { ATTACH_SOCKET, frame, FRAME_INPUT, resizeFrame } from './attach-server.ts';

type Out = (s: string) => void;
const CTRL_P = 0x10;
const CTRL_Q = 0x11;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Docker's detach keys over a byte stream: returns what to pass on, and whether Ctrl-P Ctrl-Q was typed. A Ctrl-P
 * is held back until the next byte shows it is not the start of the sequence.
 */
export function detachKeys(): (chunk: Buffer) => { pass: Buffer; detach: boolean } {
  let held = false;
  return (chunk) => {
    const out: number[] = [];
    for (const b of chunk) {
      if (held) {
        held = false;
        if (b === CTRL_Q) return { pass: Buffer.from(out), detach: true };
        out.push(CTRL_P);
        if (b === CTRL_P) {
          held = true;
          continue;
        }
        out.push(b);
      } else if (b === CTRL_P) held = true;
      else out.push(b);
    }
    return { pass: Buffer.from(out), detach: false };
  };
}

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
        // The monitor serves it once runc has handed over the pty: a container that just started may not yet.
        if (tries >= 40) throw new RunnerError(`cannot attach: the container's monitor does not answer (${(err as Error).message})`);
        await sleep(50);
      }
    }
  } finally {
    closeSync(dirFd);
  }
}

/** Waits for the monitor to record the exit (after it released the network): the container's exit code. */
async function exitCodeOf(ctx: Ctx, id: string): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const s = ctx.containers.load(id);
    if (!s) return 255;
    if (s.status === 'exited') return s.exitCode ?? 255;
    await sleep(50);
  }
  return 255;
}

export async function attachCommand(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: [], values: [] }, 'attach');
  if (printHelpIfAsked('attach', p, out)) return Exit.Ok;
  if (p.positionals.length !== 1) throw new UsageError('attach: exactly one container is required');
  const c = await refreshState(ctx, ctx.containers.resolve(p.positionals[0]!));
  if (c.status !== 'running') throw new RunnerError('You cannot attach to a stopped container, start it first');
  if (!c.tty) throw new RunnerError(`cannot attach to ${c.name}: it was run without -t (tscni logs -f ${c.name} shows its output)`);
  const sock = await connectAttach(ctx.containers.dir(c.id));
  const sendSize = () => {
    const ws = getWindowSize(1) ?? getWindowSize(0);
    if (ws && !sock.destroyed) sock.write(resizeFrame(ws.rows, ws.cols));
  };
  const keys = detachKeys();
  let detached = false;
  const onInput = (d: Buffer) => {
    const { pass, detach } = keys(d);
    for (let off = 0; off < pass.length; off += 0xffff) sock.write(frame(FRAME_INPUT, pass.subarray(off, off + 0xffff)));
    if (detach) {
      detached = true;
      sock.destroy();
    }
  };
  // docker's raw mode (cfmakeraw): the container's pty does the output processing, not this terminal too.
  const saved = makeRaw(0);
  process.stdin.on('data', onInput);
  process.on('SIGWINCH', sendSize);
  sendSize();
  sock.on('data', (d: Buffer) => process.stdout.write(d));
  try {
    await new Promise<void>((resolve) => {
      sock.on('close', () => resolve());
      sock.on('error', () => undefined);
    });
  } finally {
    process.off('SIGWINCH', sendSize);
    process.stdin.off('data', onInput);
    if (saved) restoreTerminal(0, saved);
    process.stdin.pause();
    process.stdin.destroy();
  }
  if (detached) return Exit.Ok;
  return exitCodeOf(ctx, c.id);
}
