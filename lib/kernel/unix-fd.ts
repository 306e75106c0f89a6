// File descriptors over unix sockets and the pty calls around them, on the libc seam: a listening AF_UNIX socket
// (runc's --console-socket), receiving (and, for tests, sending) one fd as SCM_RIGHTS, a pty's window size, and
// reaping a process this one adopted as a child subreaper. Node and Bun have no API for any of these.

import { FdError } from './fd-io.ts';
import { loadLibc, SOCK_CLOEXEC, SOL_SOCKET } from './libc.ts';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SCM_RIGHTS = 1;
const MSG_CMSG_CLOEXEC = 0x40000000;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const FIONBIO = 0x5421;
const TCGETS = 0x5401;
const TCSETS = 0x5402;
const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

// struct msghdr (64-bit): name, namelen(+pad), iov, iovlen, control, controllen, flags(+pad): 56 bytes.
const MSGHDR = 56;
// One cmsghdr (len, level, type: 16 bytes) carrying one int, padded to 8: CMSG_SPACE(4) = 24, CMSG_LEN(4) = 20.
const CMSG_SPACE_INT = 24;
const CMSG_LEN_INT = 20;

/** A msghdr over one data buffer and one control buffer; the buffers must outlive the call. */
function msghdr(data: Buffer, control: Buffer): Buffer {
  const libc = loadLibc();
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(libc.address(data), 0);
  iov.writeBigUInt64LE(BigInt(data.length), 8);
  const msg = Buffer.alloc(MSGHDR);
  msg.writeBigUInt64LE(libc.address(iov), 16);
  msg.writeBigUInt64LE(1n, 24);
  msg.writeBigUInt64LE(libc.address(control), 32);
  msg.writeBigUInt64LE(BigInt(control.length), 40);
  // iov is reachable only through its address: keep it alive with the header.
  (msg as Buffer & { iov?: Buffer }).iov = iov;
  return msg;
}

function sockaddrUn(path: string): Buffer {
  const p = Buffer.from(path);
  if (p.length > 107) throw new Error(`unix socket path too long (${p.length} bytes, at most 107): ${path}`);
  const a = Buffer.alloc(2 + p.length + 1);
  a.writeUInt16LE(AF_UNIX, 0);
  p.copy(a, 2);
  return a;
}

/** A non-blocking, close-on-exec AF_UNIX stream socket listening on `path` (which must not exist). */
export function listenUnix(path: string): number {
  const libc = loadLibc();
  const fd = libc.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new FdError('socket(AF_UNIX)', libc.errno());
  if (libc.bind(fd, sockaddrUn(path)) !== 0 || libc.listen(fd, 4) !== 0) {
    const e = libc.errno();
    libc.close(fd);
    throw new FdError(`listen on ${JSON.stringify(path)}`, e);
  }
  return fd;
}

/** A connection waiting on listening socket `fd`, or undefined when none is (yet). */
export function acceptUnix(fd: number): number | undefined {
  const libc = loadLibc();
  const c = libc.accept(fd, SOCK_CLOEXEC);
  if (c >= 0) return c;
  const e = libc.errno();
  if (e === 11) return undefined;
  throw new FdError('accept', e);
}

/** Receives one message on `sock` and the one fd it carries (SCM_RIGHTS, close-on-exec), or undefined without. */
export function recvFd(sock: number): { fd: number | undefined; data: Buffer } {
  const libc = loadLibc();
  const data = Buffer.alloc(4096);
  const control = Buffer.alloc(CMSG_SPACE_INT);
  const msg = msghdr(data, control);
  const n = libc.recvmsg(sock, msg, MSG_CMSG_CLOEXEC);
  if (n < 0) throw new FdError('recvmsg', libc.errno());
  const controllen = Number(msg.readBigUInt64LE(40));
  let fd: number | undefined;
  if (controllen >= CMSG_LEN_INT && control.readInt32LE(8) === SOL_SOCKET && control.readInt32LE(12) === SCM_RIGHTS) fd = control.readInt32LE(16);
  return { fd, data: data.subarray(0, n) };
}

/** Sends `data` (at least one byte) with `fd` attached as SCM_RIGHTS. */
export function sendFd(sock: number, fd: number, data: Buffer = Buffer.from('fd')): void {
  const libc = loadLibc();
  const control = Buffer.alloc(CMSG_SPACE_INT);
  control.writeBigUInt64LE(BigInt(CMSG_LEN_INT), 0);
  control.writeInt32LE(SOL_SOCKET, 8);
  control.writeInt32LE(SCM_RIGHTS, 12);
  control.writeInt32LE(fd, 16);
  if (libc.sendmsg(sock, msghdr(data, control), 0) < 0) throw new FdError('sendmsg', libc.errno());
}

/** A connected pair of AF_UNIX stream sockets (close-on-exec). */
export function unixPair(): [number, number] {
  const libc = loadLibc();
  const sv = new Int32Array(2);
  if (libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) !== 0) throw new FdError('socketpair', libc.errno());
  return [sv[0]!, sv[1]!];
}

/** Sets a pty's window size (TIOCSWINSZ on its master: the kernel sends the foreground process group SIGWINCH). */
export function setWindowSize(fd: number, rows: number, cols: number): void {
  const libc = loadLibc();
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  if (libc.ioctl(fd, TIOCSWINSZ, ws) !== 0) throw new FdError('ioctl TIOCSWINSZ', libc.errno());
}

/** A terminal's window size, or undefined when `fd` is not a terminal. */
export function getWindowSize(fd: number): { rows: number; cols: number } | undefined {
  const ws = Buffer.alloc(8);
  if (loadLibc().ioctl(fd, TIOCGWINSZ, ws) !== 0) return undefined;
  return { rows: ws.readUInt16LE(0), cols: ws.readUInt16LE(2) };
}

/**
 * Puts terminal `fd` in raw mode as cfmakeraw(3) does (no echo, no line editing, no signals from keys, no output
 * processing: unlike libuv's raw mode, which keeps ONLCR) and returns the settings to restore, or undefined when
 * `fd` is not a terminal. Offsets are the kernel's struct termios: four u32 flags, c_line, then c_cc.
 */
export function makeRaw(fd: number): Buffer | undefined {
  const libc = loadLibc();
  const saved = Buffer.alloc(64);
  if (libc.ioctl(fd, TCGETS, saved) !== 0) return undefined;
  const t = Buffer.from(saved);
  t.writeUInt32LE(t.readUInt32LE(0) & ~(0o1 | 0o2 | 0o10 | 0o40 | 0o100 | 0o200 | 0o400 | 0o2000), 0);
  t.writeUInt32LE(t.readUInt32LE(4) & ~0o1, 4);
  t.writeUInt32LE((t.readUInt32LE(8) & ~(0o60 | 0o400)) | 0o60, 8);
  t.writeUInt32LE(t.readUInt32LE(12) & ~(0o10 | 0o100 | 0o2 | 0o1 | 0o100000), 12);
  t[17 + 5] = 0; // VTIME
  t[17 + 6] = 1; // VMIN
  if (libc.ioctl(fd, TCSETS, t) !== 0) return undefined;
  return saved;
}

/** Gives terminal `fd` back the settings `makeRaw` saved. */
export function restoreTerminal(fd: number, saved: Buffer): void {
  loadLibc().ioctl(fd, TCSETS, saved);
}

export function setNonBlocking(fd: number): void {
  const libc = loadLibc();
  const on = Buffer.alloc(4);
  on.writeInt32LE(1, 0);
  if (libc.ioctl(fd, FIONBIO, on) !== 0) throw new FdError('ioctl FIONBIO', libc.errno());
}

/** Makes this process adopt its orphaned descendants (a detached runc's container process), so it can reap them. */
export function becomeSubreaper(): void {
  const libc = loadLibc();
  if (libc.prctl(PR_SET_CHILD_SUBREAPER, 1) !== 0) throw new FdError('prctl PR_SET_CHILD_SUBREAPER', libc.errno());
}

/**
 * Reaps `pid` if it ended: its exit code (128+signal when killed), undefined while it runs. ECHILD (not our child,
 * or reaped already) is an error.
 */
export function reapChild(pid: number): number | undefined {
  const libc = loadLibc();
  const status = new Int32Array(1);
  const r = libc.waitpid(pid, status, WNOHANG);
  if (r === 0) return undefined;
  if (r < 0) throw new FdError(`waitpid ${pid}`, libc.errno());
  const st = status[0]!;
  return (st & 0x7f) === 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f);
}
