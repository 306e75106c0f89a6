// A small DNS message codec (RFC 1035): enough of a query to answer it (header, the first question) and the
// answers tscni's resolver gives (A, AAAA), with the question name compressed to a pointer. Pure.

import { isIPv4, isIPv6 } from 'node:net';

export const TYPE = { A: 1, AAAA: 28 } as const;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
const CLASS_IN = 1;
const HEADER = 12;

export interface Question {
  id: number;
  /** Recursion desired, copied into the answer. */
  rd: boolean;
  opcode: number;
  /** Lower-cased, without the trailing dot. */
  name: string;
  type: number;
  qclass: number;
  /** Bytes of the question section as received (copied verbatim into the answer). */
  raw: Buffer;
}

/** Reads a (possibly compressed) name at `off`; returns it and the offset after it in the original stream. */
function readName(msg: Buffer, off: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  for (let hops = 0; hops < 64; hops++) {
    if (off >= msg.length) throw new Error('name runs past the message');
    const len = msg[off];
    if (len === 0) {
      return { name: labels.join('.'), next: next < 0 ? off + 1 : next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= msg.length) throw new Error('truncated name pointer');
      if (next < 0) next = off + 2;
      off = ((len & 0x3f) << 8) | msg[off + 1];
      continue;
    }
    if (len > 63 || off + 1 + len > msg.length) throw new Error('bad label length');
    labels.push(msg.subarray(off + 1, off + 1 + len).toString('latin1'));
    off += 1 + len;
  }
  throw new Error('too many name pointers');
}

/** Parses a query; undefined when it is not one (a response, no question): such packets are dropped. */
export function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < HEADER) return undefined;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return undefined;
  if (msg.readUInt16BE(4) < 1) return undefined;
  const { name, next } = readName(msg, HEADER);
  if (next + 4 > msg.length) throw new Error('truncated question');
  return {
    id: msg.readUInt16BE(0),
    rd: (flags & 0x0100) !== 0,
    opcode: (flags >> 11) & 0xf,
    name: name.toLowerCase(),
    type: msg.readUInt16BE(next),
    qclass: msg.readUInt16BE(next + 2),
    raw: msg.subarray(HEADER, next + 4),
  };
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean).map((l) => {
    const b = Buffer.from(l, 'latin1');
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/** A query for `name` (tests, and the resolver's own probes). */
export function buildQuery(id: number, name: string, type: number): Buffer {
  const h = Buffer.alloc(HEADER);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2);
  h.writeUInt16BE(1, 4);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([h, encodeName(name), q]);
}

function rdata(type: number, addr: string): Buffer {
  if (type === TYPE.A) return Buffer.from(addr.split('.').map(Number));
  const out = Buffer.alloc(16);
  const [head, tail = ''] = addr.split('::');
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  const groups = addr.includes('::') ? [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts] : hs;
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/**
 * The answer to `q`: authoritative, recursion available, the question copied, one record per address of the
 * asked type (the name as a pointer to the question), TTL `ttl`.
 */
export function buildAnswer(q: Question, rcode: number, addrs: readonly string[], ttl = 0): Buffer {
  const fit = addrs.filter((a) => (q.type === TYPE.A ? isIPv4(a) : q.type === TYPE.AAAA ? isIPv6(a) : false));
  const h = Buffer.alloc(HEADER);
  h.writeUInt16BE(q.id, 0);
  h.writeUInt16BE(0x8000 | (q.opcode << 11) | 0x0400 | (q.rd ? 0x0100 : 0) | 0x0080 | rcode, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(fit.length, 6);
  const answers = fit.map((a) => {
    const rd = rdata(q.type, a);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc000 | HEADER, 0);
    rr.writeUInt16BE(q.type, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(rd.length, 10);
    return Buffer.concat([rr, rd]);
  });
  return Buffer.concat([h, q.raw, ...answers]);
}

/** An error answer for a message whose question could not be read (FORMERR): the header only. */
export function buildError(msg: Buffer, rcode: number): Buffer | undefined {
  if (msg.length < 2) return undefined;
  const h = Buffer.alloc(HEADER);
  h.writeUInt16BE(msg.readUInt16BE(0), 0);
  h.writeUInt16BE(0x8000 | 0x0080 | rcode, 2);
  return h;
}
