// Plain file-descriptor I/O over the libc seam, for a plugin's hot path (its stdin/stdout, namespace files):
// Bun loads node:fs for ~2-3 ms, more than loopback's whole job, so the plugins' per-call path avoids it.

import { EAGAIN, EINTR, EIO, errnoName, loadLibc, O_CLOEXEC, O_RDONLY, statFields } from './libc.ts';

/** A failed call: `code` is the errno name (ENOENT ...), like Node's fs errors. */
export class FdError extends Error {
  readonly code: string;
  constructor(what: string, errno: number) {
    const code = errnoName(errno);
    super(`${what}: ${code}`);
    this.code = code;
  }
}

/** Reads `fd` to its end (stdin of a plugin). A non-blocking descriptor with nothing yet to read gives what came. */
export function readAll(fd: number): Buffer {
  const libc = loadLibc();
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    const n = libc.read(fd, chunk);
    if (n > 0) {
      chunks.push(chunk.subarray(0, n));
      continue;
    }
    if (n === 0) break;
    const e = libc.errno();
    if (e === EINTR) continue;
    if (e === EAGAIN) break;
    throw new FdError(`read fd ${fd}`, e);
  }
  return Buffer.concat(chunks);
}

/** Writes all of `data` to `fd`; a closed reader (EPIPE) ends it quietly, as nobody is left to tell. */
export function writeAll(fd: number, data: string | Buffer): void {
  const libc = loadLibc();
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  for (let off = 0; off < buf.length; ) {
    const n = libc.write(fd, buf.subarray(off));
    if (n >= 0) {
      off += n;
      continue;
    }
    const e = libc.errno();
    if (e === EINTR || e === EAGAIN) continue;
    return;
  }
}

/**
 * One read from non-blocking `fd`: the byte count, 'again' when nothing is there yet, 'end' at its end (0, or EIO:
 * a pty master whose every slave end is closed). Other errors throw.
 */
export function readSome(fd: number, buf: Uint8Array): number | 'again' | 'end' {
  const libc = loadLibc();
  for (;;) {
    const n = libc.read(fd, buf);
    if (n > 0) return n;
    if (n === 0) return 'end';
    const e = libc.errno();
    if (e === EINTR) continue;
    if (e === EAGAIN) return 'again';
    if (e === EIO) return 'end';
    throw new FdError(`read fd ${fd}`, e);
  }
}

/** Opens `path` read-only (close-on-exec); throws FdError naming the path. */
export function openReadOnly(path: string): number {
  const libc = loadLibc();
  const fd = libc.open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw new FdError(`open ${JSON.stringify(path)}`, libc.errno());
  return fd;
}

export function closeFd(fd: number): void {
  loadLibc().close(fd);
}

export interface FileId { dev: bigint; ino: bigint; isDirectory: boolean; isFile: boolean }

/** stat(2) of `path` (following links); throws FdError naming the path. */
export function statPath(path: string): FileId {
  const libc = loadLibc();
  const buf = Buffer.alloc(256);
  if (libc.stat(path, buf) !== 0) throw new FdError(`stat ${JSON.stringify(path)}`, libc.errno());
  const { dev, ino, mode } = statFields(buf);
  const type = mode & 0o170000;
  return { dev, ino, isDirectory: type === 0o040000, isFile: type === 0o100000 };
}
