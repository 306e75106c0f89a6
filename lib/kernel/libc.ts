// The libc seam: every libc call tscni makes (setns, flock, the netlink socket, and the plain file calls a plugin's
// hot path needs: its stdio, namespace files), synchronous, in one module. Under Bun it binds libc with bun:ffi
// (~1 ms); under Node (ava's in-process tests) with koffi. Both backends expose the same functions; errno is read
// right after the call that failed. Why file calls here too: under Bun, loading node:fs costs a plugin ~2-3 ms,
// more than everything loopback does.

import { createRequire } from 'node:module';

export interface Libc {
  setns(fd: number, nstype: number): number;
  flock(fd: number, op: number): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  sendto(fd: number, buf: Uint8Array, addr: Uint8Array): number;
  /** recv(2) into `buf`: the byte count (the whole datagram's length with MSG_TRUNC), or -1. */
  recv(fd: number, buf: Uint8Array, flags: number): number;
  close(fd: number): number;
  /** open(2) (no O_CREAT: no mode argument); -1 and errno on failure. */
  open(path: string, flags: number): number;
  read(fd: number, buf: Uint8Array): number;
  write(fd: number, buf: Uint8Array): number;
  /** stat(2) into `buf` (at least 256 bytes): 0 or -1. The layout is the architecture's `struct stat`. */
  stat(path: string, buf: Uint8Array): number;
  listen(fd: number, backlog: number): number;
  /** accept4(2) without the peer's address; `flags`: SOCK_NONBLOCK | SOCK_CLOEXEC. */
  accept(fd: number, flags: number): number;
  socketpair(domain: number, type: number, protocol: number, sv: Int32Array): number;
  /** recvmsg/sendmsg(2) with a caller-built `struct msghdr` (unix-fd.ts builds it, with `address` of its buffers). */
  recvmsg(fd: number, msg: Uint8Array, flags: number): number;
  sendmsg(fd: number, msg: Uint8Array, flags: number): number;
  /** ioctl(2) with a pointer argument (TIOCSWINSZ, FIONBIO). */
  ioctl(fd: number, request: number, arg: Uint8Array): number;
  prctl(option: number, arg2: number): number;
  /** waitpid(2); `status` receives the wait status. */
  waitpid(pid: number, status: Int32Array, options: number): number;
  /** The address of a buffer's memory, to put in a struct that points at it. */
  address(buf: Uint8Array): bigint;
  /** The errno of the last failed call on this thread. */
  errno(): number;
  readonly backend: 'bun:ffi' | 'koffi';
}

declare const Bun: unknown;
// The slice of bun:ffi used here (typed locally: the project does not carry Bun's type package).
interface BunFfi {
  dlopen(path: string, defs: Record<string, { args: string[]; returns: string }>): { symbols: Record<string, (...a: unknown[]) => number | bigint> };
  read: { i32(ptr: unknown, offset: number): number };
  ptr(buf: Uint8Array): number;
}
const require = createRequire(import.meta.url);
let libc: Libc | undefined;

/** A NUL-terminated copy of `s` for a `const char *` argument. */
const cString = (s: string) => Buffer.from(`${s}\0`);

function bunLibc(): Libc {
  const { dlopen, read, ptr } = require('bun:ffi') as BunFfi;
  const { symbols: s } = dlopen('libc.so.6', {
    setns: { args: ['i32', 'i32'], returns: 'i32' },
    flock: { args: ['i32', 'i32'], returns: 'i32' },
    socket: { args: ['i32', 'i32', 'i32'], returns: 'i32' },
    bind: { args: ['i32', 'ptr', 'u32'], returns: 'i32' },
    setsockopt: { args: ['i32', 'i32', 'i32', 'ptr', 'u32'], returns: 'i32' },
    sendto: { args: ['i32', 'ptr', 'u64', 'i32', 'ptr', 'u32'], returns: 'i64' },
    recv: { args: ['i32', 'ptr', 'u64', 'i32'], returns: 'i64' },
    close: { args: ['i32'], returns: 'i32' },
    // open is variadic in C; with no O_CREAT the mode is never read, so a fixed two-argument binding is safe.
    open: { args: ['ptr', 'i32'], returns: 'i32' },
    read: { args: ['i32', 'ptr', 'u64'], returns: 'i64' },
    write: { args: ['i32', 'ptr', 'u64'], returns: 'i64' },
    stat: { args: ['ptr', 'ptr'], returns: 'i32' },
    listen: { args: ['i32', 'i32'], returns: 'i32' },
    accept4: { args: ['i32', 'ptr', 'ptr', 'i32'], returns: 'i32' },
    socketpair: { args: ['i32', 'i32', 'i32', 'ptr'], returns: 'i32' },
    recvmsg: { args: ['i32', 'ptr', 'i32'], returns: 'i64' },
    sendmsg: { args: ['i32', 'ptr', 'i32'], returns: 'i64' },
    // ioctl and prctl are variadic; their extra arguments are a pointer / unsigned longs, passed alike on x86-64 and arm64.
    ioctl: { args: ['i32', 'u64', 'ptr'], returns: 'i32' },
    prctl: { args: ['i32', 'u64', 'u64', 'u64', 'u64'], returns: 'i32' },
    waitpid: { args: ['i32', 'ptr', 'i32'], returns: 'i32' },
    __errno_location: { args: [], returns: 'ptr' },
  });
  return {
    backend: 'bun:ffi',
    setns: (fd, t) => Number(s.setns(fd, t)),
    flock: (fd, op) => Number(s.flock(fd, op)),
    socket: (d, t, p) => Number(s.socket(d, t, p)),
    bind: (fd, a) => Number(s.bind(fd, a, a.byteLength)),
    setsockopt: (fd, l, n, v) => Number(s.setsockopt(fd, l, n, v, v.byteLength)),
    sendto: (fd, b, a) => Number(s.sendto(fd, b, b.byteLength, 0, a, a.byteLength)),
    recv: (fd, b, f) => Number(s.recv(fd, b, b.byteLength, f)),
    close: (fd) => Number(s.close(fd)),
    open: (p, f) => Number(s.open(cString(p), f)),
    read: (fd, b) => Number(s.read(fd, b, b.byteLength)),
    write: (fd, b) => Number(s.write(fd, b, b.byteLength)),
    stat: (p, b) => Number(s.stat(cString(p), b)),
    listen: (fd, b) => Number(s.listen(fd, b)),
    accept: (fd, fl) => Number(s.accept4(fd, null, null, fl)),
    socketpair: (d, t, p, sv) => Number(s.socketpair(d, t, p, sv)),
    recvmsg: (fd, m, fl) => Number(s.recvmsg(fd, m, fl)),
    sendmsg: (fd, m, fl) => Number(s.sendmsg(fd, m, fl)),
    ioctl: (fd, r, a) => Number(s.ioctl(fd, r, a)),
    prctl: (o, a) => Number(s.prctl(o, a, 0, 0, 0)),
    waitpid: (pid, st, o) => Number(s.waitpid(pid, st, o)),
    address: (b) => BigInt(ptr(b)),
    errno: () => read.i32(s.__errno_location(), 0),
  };
}

function koffiLibc(): Libc {
  const koffi = require('koffi') as {
    load(name: string): { func(sig: string): (...args: unknown[]) => number | bigint };
    errno(): number;
    address(value: unknown): bigint;
  };
  const lib = koffi.load('libc.so.6');
  const f = (sig: string) => lib.func(sig);
  const setns = f('int setns(int fd, int nstype)');
  const flock = f('int flock(int fd, int op)');
  const socket = f('int socket(int domain, int type, int protocol)');
  const bind = f('int bind(int fd, const void *addr, uint32_t len)');
  const setsockopt = f('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
  const sendto = f('int64_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)');
  const recv = f('int64_t recv(int fd, _Out_ void *buf, size_t len, int flags)');
  const close = f('int close(int fd)');
  const open = f('int open(const char *path, int flags, ...)');
  const readFn = f('int64_t read(int fd, _Out_ void *buf, size_t len)');
  const writeFn = f('int64_t write(int fd, const void *buf, size_t len)');
  const stat = f('int stat(const char *path, _Out_ void *buf)');
  const listen = f('int listen(int fd, int backlog)');
  const accept4 = f('int accept4(int fd, void *addr, void *len, int flags)');
  const socketpair = f('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
  // The msghdr points at buffers by address: passed as plain memory, koffi copies nothing back, the kernel writes in place.
  const recvmsg = f('int64_t recvmsg(int fd, void *msg, int flags)');
  const sendmsg = f('int64_t sendmsg(int fd, const void *msg, int flags)');
  const ioctl = f('int ioctl(int fd, unsigned long request, void *arg)');
  const prctl = f('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
  const waitpid = f('int waitpid(int pid, _Out_ int *status, int options)');
  return {
    backend: 'koffi',
    setns: (fd, t) => Number(setns(fd, t)),
    flock: (fd, op) => Number(flock(fd, op)),
    socket: (d, t, p) => Number(socket(d, t, p)),
    bind: (fd, a) => Number(bind(fd, a, a.byteLength)),
    setsockopt: (fd, l, n, v) => Number(setsockopt(fd, l, n, v, v.byteLength)),
    sendto: (fd, b, a) => Number(sendto(fd, b, b.byteLength, 0, a, a.byteLength)),
    recv: (fd, b, fl) => Number(recv(fd, b, b.byteLength, fl)),
    close: (fd) => Number(close(fd)),
    open: (p, fl) => Number(open(p, fl)),
    read: (fd, b) => Number(readFn(fd, b, b.byteLength)),
    write: (fd, b) => Number(writeFn(fd, b, b.byteLength)),
    stat: (p, b) => Number(stat(p, b)),
    listen: (fd, b) => Number(listen(fd, b)),
    accept: (fd, fl) => Number(accept4(fd, null, null, fl)),
    socketpair: (d, t, p, sv) => Number(socketpair(d, t, p, sv)),
    recvmsg: (fd, m, fl) => Number(recvmsg(fd, m, fl)),
    sendmsg: (fd, m, fl) => Number(sendmsg(fd, m, fl)),
    ioctl: (fd, r, a) => Number(ioctl(fd, r, a)),
    prctl: (o, a) => Number(prctl(o, a, 0, 0, 0)),
    waitpid: (pid, st, o) => Number(waitpid(pid, st, o)),
    address: (b) => koffi.address(b),
    errno: () => koffi.errno(),
  };
}

/** libc through the backend of the running runtime, bound once per process. */
export function loadLibc(): Libc {
  libc ??= typeof Bun !== 'undefined' ? bunLibc() : koffiLibc();
  return libc;
}

export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;
/** socket(2) flag and setsockopt level, shared by the netlink and unix socket modules. */
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const EINTR = 4;
export const EIO = 5;
export const EAGAIN = 11;

/** The fields of `struct stat` tscni reads; dev and ino lead the struct on x86-64 and arm64 alike, the mode does not. */
export function statFields(buf: Buffer): { dev: bigint; ino: bigint; mode: number } {
  return { dev: buf.readBigUInt64LE(0), ino: buf.readBigUInt64LE(8), mode: buf.readUInt32LE(process.arch === 'x64' ? 24 : 16) };
}

// Linux errno names by number (the x86-64/arm64 generic table), written out: node:os costs Bun ~0.4 ms to load.
const ERRNO: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 8: 'ENOEXEC', 9: 'EBADF',
  10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 18: 'EXDEV',
  19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 23: 'ENFILE', 24: 'EMFILE', 25: 'ENOTTY', 26: 'ETXTBSY',
  27: 'EFBIG', 28: 'ENOSPC', 29: 'ESPIPE', 30: 'EROFS', 31: 'EMLINK', 32: 'EPIPE', 33: 'EDOM', 34: 'ERANGE',
  35: 'EDEADLK', 36: 'ENAMETOOLONG', 37: 'ENOLCK', 38: 'ENOSYS', 39: 'ENOTEMPTY', 40: 'ELOOP', 42: 'ENOMSG', 43: 'EIDRM',
  60: 'ENOSTR', 61: 'ENODATA', 62: 'ETIME', 63: 'ENOSR', 67: 'ENOLINK', 71: 'EPROTO', 72: 'EMULTIHOP', 74: 'EBADMSG',
  75: 'EOVERFLOW', 84: 'EILSEQ', 88: 'ENOTSOCK', 89: 'EDESTADDRREQ', 90: 'EMSGSIZE', 91: 'EPROTOTYPE',
  92: 'ENOPROTOOPT', 93: 'EPROTONOSUPPORT', 95: 'ENOTSUP', 97: 'EAFNOSUPPORT', 98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL',
  100: 'ENETDOWN', 101: 'ENETUNREACH', 102: 'ENETRESET', 103: 'ECONNABORTED', 104: 'ECONNRESET', 105: 'ENOBUFS',
  106: 'EISCONN', 107: 'ENOTCONN', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 113: 'EHOSTUNREACH', 114: 'EALREADY',
  115: 'EINPROGRESS', 116: 'ESTALE', 122: 'EDQUOT', 125: 'ECANCELED',
};
export const errnoName = (n: number) => ERRNO[n] ?? `errno ${n}`;
