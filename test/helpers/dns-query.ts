// A DNS client for tests (run with node inside a netns): `dns-query.ts udp|tcp SERVER NAME A|AAAA` sends one query
// and prints {"rcode": N, "answers": ["addr", ...]} (A/AAAA records of the answer section), or {"error": "..."}.

import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import ipaddr from 'ipaddr.js';
import { buildQuery, TYPE } from '../../lib/runner/dns/codec.ts';

const [proto, server, name, type] = process.argv.slice(2);
const query = buildQuery(0x1234, name, type === 'AAAA' ? TYPE.AAAA : TYPE.A);

function skipName(msg: Buffer, off: number): number {
  for (;;) {
    const len = msg[off];
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2;
    off += 1 + len;
  }
}

function parse(msg: Buffer): { rcode: number; answers: string[] } {
  const rcode = msg[3] & 0xf;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let off = 12;
  for (let i = 0; i < qd; i++) off = skipName(msg, off) + 4;
  const answers: string[] = [];
  for (let i = 0; i < an; i++) {
    off = skipName(msg, off);
    const rtype = msg.readUInt16BE(off);
    const rdlen = msg.readUInt16BE(off + 8);
    const rdata = msg.subarray(off + 10, off + 10 + rdlen);
    if (rtype === TYPE.A) answers.push([...rdata].join('.'));
    if (rtype === TYPE.AAAA) answers.push(ipaddr.fromByteArray([...rdata]).toString());
    off += 10 + rdlen;
  }
  return { rcode, answers };
}

const done = (v: unknown) => {
  process.stdout.write(JSON.stringify(v) + '\n');
  process.exit(0);
};
setTimeout(() => done({ error: 'timeout' }), 3000);
if (proto === 'udp') {
  const sock = createSocket(server.includes(':') ? 'udp6' : 'udp4');
  sock.on('message', (m) => done(parse(m)));
  sock.on('error', (e) => done({ error: e.message }));
  sock.send(query, 53, server);
} else {
  const conn = connect({ host: server, port: 53 });
  let buf = Buffer.alloc(0);
  conn.on('error', (e) => done({ error: e.message }));
  conn.on('connect', () => {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(query.length);
    // Split in two writes: the server must reassemble the length-prefixed message.
    conn.write(len);
    setTimeout(() => conn.write(query), 20);
  });
  conn.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(parse(buf.subarray(2, 2 + buf.readUInt16BE(0))));
  });
}
