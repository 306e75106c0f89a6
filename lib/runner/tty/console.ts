// A detached -t run (`run -dt`, `start` of a -t container), in the monitor: `runc run -d --console-socket` hands
// the pty's master over a unix socket as SCM_RIGHTS (received through the libc seam, as Node and Bun cannot), and
// the monitor keeps it: the output goes to container.log (docker's tty shape) and to every attached client
// (attach-server.ts); the monitor, a child subreaper, adopts the process when `runc run -d` returns and reaps it
// for its exit code.
//
// Sockets are bound and dialled through /proc/<pid>/fd/<dir fd>/NAME: a state dir's path can be longer than a
// sockaddr_un holds (107 bytes), the magic link to an open directory is always short.

import { appendFileSync, closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { closeFd, readSome } from '../../kernel/fd-io.ts';
import { acceptUnix, becomeSubreaper, listenUnix, recvFd, reapChild, setNonBlocking } from '../../kernel/unix-fd.ts';
import * as runtime from '../container/runtime.ts';
import { ptySink, serveAttach, type AttachServer } from './attach-server.ts';
import { readPid } from '../container/pid.ts';

export const CONSOLE_SOCKET = 'console.sock';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A short path naming `name` in `dir`, for bind/connect: valid while `dirFd` stays open in this process. */
export function shortPath(dirFd: number, name: string, pid: number | 'self' = 'self'): string {
  return `/proc/${pid}/fd/${dirFd}/${name}`;
}

/** Receives the pty master runc sent on listening socket `listenFd` (runc connected, sent, and has returned). */
function takeMaster(listenFd: number): number {
  const conn = acceptUnix(listenFd);
  if (conn === undefined) throw new Error('runc returned without connecting to the console socket');
  try {
    const { fd } = recvFd(conn);
    if (fd === undefined) throw new Error('runc sent no pty on the console socket');
    return fd;
  } finally {
    closeFd(conn);
  }
}

const entry = (log: string) => JSON.stringify({ log, stream: 'stdout', time: new Date().toISOString() }) + '\n';

/**
 * Copies the master's output to the log and the clients until the process (reaped by pid) has ended and the
 * output is drained; returns its exit code.
 */
async function pump(master: number, pid: number, logFile: string, server: AttachServer): Promise<number> {
  const buf = Buffer.alloc(64 * 1024);
  const text = new StringDecoder('utf8');
  let exitCode: number | undefined;
  let closed = false;
  for (;;) {
    const n = closed ? 'end' : readSome(master, buf);
    if (typeof n === 'number') {
      const chunk = Buffer.from(buf.subarray(0, n));
      server.broadcast(chunk);
      const s = text.write(chunk);
      if (s) appendFileSync(logFile, entry(s));
      await new Promise((r) => setImmediate(r));
      continue;
    }
    // The end: every slave end is closed (the process and whatever shared its terminal are gone).
    if (n === 'end') closed = true;
    if (exitCode !== undefined) return exitCode;
    exitCode = reapChild(pid);
    // One more read after the exit drains what it wrote last; then the loop ends at the next EAGAIN or EIO.
    if (exitCode === undefined) await sleep(closed ? 20 : 10);
  }
}

/**
 * One detached -t run: `runc run -d --console-socket`, the master received, "running" marked by `onRunning`, then
 * the output pumped and clients served until the process ends (`holdForClient`: from the first client on). Returns
 * its exit code, or the runtime's error.
 */
export async function runConsoleOnce(rt: runtime.RuntimeRef, id: string, dir: string, runtimeLog: string, pidFile: string, logFile: string, openStdin: boolean, onRunning: (pid: number) => Promise<void>, holdForClient = false): Promise<{ exitCode: number; startError?: string }> {
  becomeSubreaper();
  rmSync(pidFile, { force: true });
  rmSync(join(dir, CONSOLE_SOCKET), { force: true });
  const dirFd = openSync(dir, 'r');
  let listenFd = -1;
  let master = -1;
  let server: AttachServer | undefined;
  try {
    listenFd = listenUnix(shortPath(dirFd, CONSOLE_SOCKET));
    const child = await runtime.spawnRunDetached(rt, id, dir, runtimeLog, pidFile, shortPath(dirFd, CONSOLE_SOCKET, process.pid));
    const ended = await child.ended;
    if (ended.startError !== undefined) return { exitCode: 127, startError: ended.startError };
    const pid = readPid(pidFile);
    if (ended.exitCode !== 0 || !pid) return { exitCode: ended.exitCode ?? 255 };
    master = takeMaster(listenFd);
    closeFd(listenFd);
    listenFd = -1;
    rmSync(join(dir, CONSOLE_SOCKET), { force: true });
    setNonBlocking(master);
    server = await serveAttach(dir, dirFd, ptySink(master, openStdin));
    await onRunning(pid);
    // A foreground `run -t` attaches right after the start: the output waits in the pty for it (at most 10 s).
    if (holdForClient) await server.firstClient(10_000);
    const exitCode = await pump(master, pid, logFile, server);
    server.exited(exitCode);
    return { exitCode };
  } finally {
    await server?.close();
    if (master >= 0) closeFd(master);
    if (listenFd >= 0) closeFd(listenFd);
    rmSync(join(dir, CONSOLE_SOCKET), { force: true });
    closeSync(dirFd);
  }
}

