// A synchronous NETLINK_ROUTE socket over the libc seam: one request, its replies read until the kernel's ACK or
// NLMSG_DONE. Synchronous on purpose: the caller may be switched into a container netns, where only synchronous
// work is safe, and a plugin has nothing else to do while the kernel answers.

import { EAGAIN, EINTR, errnoName, loadLibc, SOCK_CLOEXEC, SOL_SOCKET, type Libc } from './libc.ts';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_ROUTE = 0;
const SO_RCVTIMEO = 20;
const SO_RCVBUF = 8;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const MSG_TRUNC = 0x20;
const HDR = 16;

export interface NlMessage { type: number; flags: number; seq: number; data: Buffer }

/** A failed request: `errno` is the kernel's answer by name (ENODEV, EEXIST ...). */
export class NetlinkError extends Error {
  readonly errno: string;
  constructor(op: string, errno: string) {
    super(`${op}: ${errno}`);
    this.errno = errno;
  }
}

/** sockaddr_nl addressed to the kernel (nl_pid 0, no groups). */
const KERNEL = new Uint8Array(12);
KERNEL[0] = AF_NETLINK;

export class NlSocket {
  private readonly c: Libc;
  private fd: number;
  private seq = 0;
  private buf = Buffer.alloc(64 * 1024);

  /** Opens the socket in the calling thread's current netns; it stays bound to that netns. */
  constructor() {
    this.c = loadLibc();
    this.fd = this.c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (this.fd < 0) throw new NetlinkError('open netlink socket', errnoName(this.c.errno()));
    // A kernel that never answers must not hang a plugin: recv times out after 10 s (struct timeval).
    const tv = Buffer.alloc(16);
    tv.writeBigInt64LE(10n, 0);
    const rcvbuf = Buffer.alloc(4);
    rcvbuf.writeInt32LE(1 << 20, 0);
    if (this.c.bind(this.fd, KERNEL) !== 0 || this.c.setsockopt(this.fd, SOL_SOCKET, SO_RCVTIMEO, tv) !== 0
        || this.c.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, rcvbuf) !== 0) {
      const e = errnoName(this.c.errno());
      this.close();
      throw new NetlinkError('bind netlink socket', e);
    }
  }

  close(): void {
    if (this.fd >= 0) this.c.close(this.fd);
    this.fd = -1;
  }

  /**
   * Sends one request (type + payload parts) with NLM_F_REQUEST|NLM_F_ACK and returns every reply message up to
   * the ACK (or NLMSG_DONE for a dump). A kernel error becomes a NetlinkError named by its errno.
   */
  request(op: string, type: number, parts: Buffer[], flags = 0): NlMessage[] {
    if (this.fd < 0) throw new NetlinkError(op, 'EBADF');
    const seq = ++this.seq;
    const payload = Buffer.concat(parts);
    const msg = Buffer.alloc(HDR + payload.length);
    msg.writeUInt32LE(msg.length, 0);
    msg.writeUInt16LE(type, 4);
    msg.writeUInt16LE(flags | NLM_F_REQUEST | NLM_F_ACK, 6);
    msg.writeUInt32LE(seq, 8);
    payload.copy(msg, HDR);
    if (this.c.sendto(this.fd, msg, KERNEL) < 0) throw new NetlinkError(op, errnoName(this.c.errno()));
    const out: NlMessage[] = [];
    for (;;) {
      const n = this.receive(op);
      for (let off = 0; off + HDR <= n; ) {
        const len = this.buf.readUInt32LE(off);
        if (len < HDR || off + len > n) break;
        const m: NlMessage = {
          type: this.buf.readUInt16LE(off + 4),
          flags: this.buf.readUInt16LE(off + 6),
          seq: this.buf.readUInt32LE(off + 8),
          data: Buffer.from(this.buf.subarray(off + HDR, off + len)),
        };
        off += (len + 3) & ~3;
        if (m.seq !== seq) continue; // a late answer to an earlier request
        if (m.type === NLMSG_ERROR) {
          const err = -m.data.readInt32LE(0);
          if (err !== 0) throw new NetlinkError(op, errnoName(err));
          return out;
        }
        if (m.type === NLMSG_DONE) return out;
        out.push(m);
      }
    }
  }

  /** One datagram into this.buf (grown when the kernel's is larger); returns its length. */
  private receive(op: string): number {
    for (;;) {
      const n = this.c.recv(this.fd, this.buf, MSG_TRUNC | 0x2 /* MSG_PEEK */);
      if (n < 0) {
        const e = this.c.errno();
        if (e === EINTR) continue;
        throw new NetlinkError(op, e === EAGAIN ? 'ETIMEDOUT (no answer from the kernel in 10 s)' : errnoName(e));
      }
      if (n > this.buf.length) this.buf = Buffer.alloc(n);
      const got = this.c.recv(this.fd, this.buf, 0);
      if (got < 0) {
        if (this.c.errno() === EINTR) continue;
        throw new NetlinkError(op, errnoName(this.c.errno()));
      }
      return got;
    }
  }
}
