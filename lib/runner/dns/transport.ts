// The resolver's transports: DNS over UDP and over TCP (RFC 1035 4.2.2 / RFC 7766: each message prefixed with
// its 16-bit length, several per connection, answered in any order) on one address, port 53, plus the upstream
// side of both (a truncated UDP answer to a TCP client is asked again over TCP).

import { createSocket, type Socket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';

/** Answers one message from `from`; undefined: no answer (not a query). */
export type Handler = (msg: Buffer, from: string, tcp: boolean) => Promise<Buffer | undefined>;

const TCP_IDLE_MS = 10_000;
const MAX_MSG = 65535;

/** Binds 53/udp and 53/tcp on `address` (retrying while an IPv6 address is still tentative: DAD). */
export async function listenDns(address: string, handle: Handler, waitMs = 5000): Promise<{ udp: Socket; tcp: Server }> {
  const v6 = address.includes(':');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const udp = await bindUdp(address, v6, handle);
      try {
        return { udp, tcp: await listenTcp(address, handle) };
      } catch (err) {
        udp.close();
        throw err;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function bindUdp(address: string, v6: boolean, handle: Handler): Promise<Socket> {
  const sock = createSocket({ type: v6 ? 'udp6' : 'udp4', reuseAddr: false, ipv6Only: v6 });
  return new Promise<Socket>((resolve, reject) => {
    sock.once('error', (err) => {
      sock.close();
      reject(err);
    });
    sock.bind({ address, port: 53, exclusive: true }, () => {
      sock.removeAllListeners('error');
      sock.on('error', () => undefined);
      sock.on('message', (msg, from) => {
        void handle(msg, from.address, false).then((reply) => {
          if (reply) sock.send(reply, from.port, from.address);
        });
      });
      resolve(sock);
    });
  });
}

function listenTcp(address: string, handle: Handler): Promise<Server> {
  const server = createServer((conn) => {
    let buf = Buffer.alloc(0);
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void handle(Buffer.from(msg), (conn.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, ''), true).then((reply) => {
          if (reply && !conn.destroyed) conn.write(frame(reply));
        });
      }
    });
  });
  return new Promise<Server>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port: 53, exclusive: true, ipv6Only: address.includes(':') }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(Math.min(msg.length, MAX_MSG));
  return Buffer.concat([len, msg.subarray(0, MAX_MSG)]);
}

/** Whether a DNS message has the TC (truncated) bit. */
const truncated = (msg: Buffer) => msg.length >= 3 && (msg[2] & 0x02) !== 0;

/** One query to one upstream over UDP; undefined on a timeout or an error. */
function askUdp(msg: Buffer, up: string, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket(up.includes(':') ? 'udp6' : 'udp4');
    const done = (reply: Buffer | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(reply);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.once('message', (reply) => done(reply));
    sock.once('error', () => done(undefined));
    sock.send(msg, 53, up);
  });
}

/** One query to one upstream over TCP; undefined on a timeout or an error. */
function askTcp(msg: Buffer, up: string, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const conn = connect({ host: up, port: 53 });
    let buf = Buffer.alloc(0);
    const done = (reply: Buffer | undefined) => {
      conn.destroy();
      resolve(reply);
    };
    conn.setTimeout(timeoutMs, () => done(undefined));
    conn.once('error', () => done(undefined));
    conn.once('connect', () => conn.write(frame(msg)));
    conn.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0))));
    });
    conn.once('end', () => done(undefined));
  });
}

/** Asks each upstream in turn (UDP; TCP again for a TCP client when the UDP answer was truncated); first answer wins. */
export async function forward(msg: Buffer, upstreams: readonly string[], tcp: boolean, timeoutMs: number): Promise<Buffer | undefined> {
  for (const up of upstreams) {
    const reply = await askUdp(msg, up, timeoutMs);
    if (!reply) continue;
    if (tcp && truncated(reply)) return (await askTcp(msg, up, timeoutMs)) ?? reply;
    return reply;
  }
  return undefined;
}
