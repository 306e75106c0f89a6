// The monitor's side of `tscni attach`: a unix socket (attach.sock in the container's state dir) that gives every
// client the output (a -t container's pty; stdout and stderr apart without -t) and, when the process has ended, its
// exit code (frames: the state may be gone by then, with --rm), and takes frames from it: input (only when the
// container keeps stdin open, docker's -i: to the pty, or to runc's stdin pipe) and window sizes (TIOCSWINSZ on a
// pty's master, so the container gets its SIGWINCH from the kernel). The monitor closes every connection when the
// process ends.

import { createServer, type Socket } from 'node:net';
import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setWindowSize } from '../../kernel/unix-fd.ts';
import { writeAll } from '../../kernel/fd-io.ts';

export const ATTACH_SOCKET = 'attach.sock';

/** Frames both ways: a type byte, a 16-bit big-endian length, the payload. Client → monitor: input, resize. */
export const FRAME_INPUT = 1;
export const FRAME_RESIZE = 2;
/** Monitor → client: output (a pty's, or stdout), stderr (without -t), the exit code (32-bit big-endian) at the end. */
export const FRAME_OUTPUT = 3;
export const FRAME_EXIT = 4;
export const FRAME_STDERR = 5;

/** Output of any length as frames of at most 0xffff bytes. */
export function outputFrames(chunk: Buffer, type = FRAME_OUTPUT): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < chunk.length; off += 0xffff) parts.push(frame(type, chunk.subarray(off, off + 0xffff)));
  return Buffer.concat(parts);
}

export function exitFrame(code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeInt32BE(code, 0);
  return frame(FRAME_EXIT, p);
}

export function frame(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

export function resizeFrame(rows: number, cols: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt16BE(rows, 0);
  p.writeUInt16BE(cols, 2);
  return frame(FRAME_RESIZE, p);
}

/** Splits whole frames off `buf`; returns them and what is left of an incomplete one. */
export function parseFrames(buf: Buffer): { frames: { type: number; payload: Buffer }[]; rest: Buffer } {
  const frames: { type: number; payload: Buffer }[] = [];
  let off = 0;
  while (buf.length - off >= 3) {
    const len = buf.readUInt16BE(off + 1);
    if (buf.length - off < 3 + len) break;
    frames.push({ type: buf[off]!, payload: buf.subarray(off + 3, off + 3 + len) });
    off += 3 + len;
  }
  return { frames, rest: buf.subarray(off) };
}

/** A stream's frames one by one, whatever the reads' boundaries (an incomplete frame waits for the next read). */
export function frameReader(onFrame: (f: { type: number; payload: Buffer }) => void): (d: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (d) => {
    const { frames, rest } = parseFrames(Buffer.concat([pending, d]));
    pending = Buffer.from(rest);
    for (const f of frames) onFrame(f);
  };
}

export interface AttachServer {
  broadcast(chunk: Buffer, stream?: 'stdout' | 'stderr'): void;
  /** Tells every client the process's exit code (before `close`). */
  exited(code: number): void;
  /** Resolves when a client has connected (at once if one has), or after `ms`. */
  firstClient(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** Where clients' frames go: `input` only when the container keeps stdin open; `resize` only for a pty. */
export interface AttachSink {
  input?: (b: Buffer) => void;
  resize?: (rows: number, cols: number) => void;
}

/** The sink of a pty master: typed input (with -i) and window sizes. */
export const ptySink = (master: number, openStdin: boolean): AttachSink => ({
  input: openStdin ? (b) => writeAll(master, b) : undefined,
  resize: (rows, cols) => setWindowSize(master, rows, cols),
});

/** Serves attach.sock in `dir` (bound through `dirFd`'s short path), clients' frames to `sink`. */
export async function serveAttach(dir: string, dirFd: number, sink: AttachSink): Promise<AttachServer> {
  const clients = new Set<Socket>();
  let connected = () => undefined as void;
  const anyClient = new Promise<void>((resolve) => (connected = resolve));
  const server = createServer((sock) => {
    clients.add(sock);
    connected();
    sock.on('data', frameReader((f) => {
      try {
        if (f.type === FRAME_INPUT) sink.input?.(f.payload);
        else if (f.type === FRAME_RESIZE && f.payload.length === 4) sink.resize?.(f.payload.readUInt16BE(0), f.payload.readUInt16BE(2));
      } catch {
        // the pty or pipe is closing: the process has ended
      }
    }));
    sock.on('error', () => sock.destroy());
    sock.on('close', () => clients.delete(sock));
  });
  const path = join(dir, ATTACH_SOCKET);
  rmSync(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(`/proc/self/fd/${dirFd}/${ATTACH_SOCKET}`, () => resolve());
  });
  return {
    broadcast(chunk, stream = 'stdout') {
      if (!clients.size) return;
      const frames = outputFrames(chunk, stream === 'stderr' ? FRAME_STDERR : FRAME_OUTPUT);
      for (const c of clients) c.write(frames);
    },
    exited(code) {
      for (const c of clients) c.write(exitFrame(code));
    },
    async firstClient(ms) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([anyClient, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
    },
    async close() {
      for (const c of clients) {
        c.end();
        setTimeout(() => c.destroy(), 500).unref();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(path, { force: true });
    },
  };
}

/** serveAttach in `dir` with a directory fd of its own, closed with the server. */
export async function serveAttachIn(dir: string, sink: AttachSink): Promise<AttachServer> {
  const dirFd = openSync(dir, 'r');
  try {
    const server = await serveAttach(dir, dirFd, sink);
    return { ...server, close: () => server.close().finally(() => closeSync(dirFd)) };
  } catch (err) {
    closeSync(dirFd);
    throw err;
  }
}
