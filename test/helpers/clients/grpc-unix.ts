// A minimal gRPC client over a unix socket (node:http2) with a hand-rolled protobuf codec: just enough to drive
// containerd's CRI RuntimeService the way kubelet does, without adding a gRPC dependency.

import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';

/** A protobuf message as data: field number → value(s). Strings/bytes/messages are length-delimited; numbers varint. */
export interface Msg { [tag: number]: Field | Field[] }
export type Field = string | number | boolean | Msg;

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = BigInt(n) & 0xffffffffffffffffn;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

export function encode(m: Msg): Buffer {
  const parts: Buffer[] = [];
  for (const [k, raw] of Object.entries(m)) {
    const tag = Number(k);
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      if (typeof v === 'number' || typeof v === 'boolean') {
        parts.push(varint(tag << 3), varint(Number(v)));
      } else {
        const body = typeof v === 'string' ? Buffer.from(v) : encode(v);
        parts.push(varint((tag << 3) | 2), varint(body.length), body);
      }
    }
  }
  return Buffer.concat(parts);
}

/** map<string,string> as protobuf wants it: repeated {1: key, 2: value}. */
export const map = (o: Record<string, string>): Msg[] => Object.entries(o).map(([k, v]) => ({ 1: k, 2: v }));

export type Decoded = Map<number, (bigint | Buffer)[]>;

export function decode(b: Buffer): Decoded {
  const out: Decoded = new Map();
  let i = 0;
  const readVarint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const byte = b[i++];
      v |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < b.length) {
    const key = Number(readVarint());
    const tag = key >> 3;
    const wt = key & 7;
    let val: bigint | Buffer;
    if (wt === 0) val = readVarint();
    else if (wt === 2) {
      const len = Number(readVarint());
      val = b.subarray(i, i + len);
      i += len;
    } else if (wt === 1) {
      val = b.readBigUInt64LE(i);
      i += 8;
    } else if (wt === 5) {
      val = BigInt(b.readUInt32LE(i));
      i += 4;
    } else throw new Error(`protobuf: unsupported wire type ${wt}`);
    out.set(tag, [...(out.get(tag) ?? []), val]);
  }
  return out;
}

export const str = (d: Decoded, tag: number) => (d.get(tag)?.[0] as Buffer | undefined)?.toString('utf8') ?? '';
export const sub = (d: Decoded, tag: number) => decode((d.get(tag)?.[0] as Buffer | undefined) ?? Buffer.alloc(0));
export const num = (d: Decoded, tag: number) => Number((d.get(tag)?.[0] as bigint | undefined) ?? 0n);

export class GrpcClient {
  private session: ClientHttp2Session;

  constructor(socketPath: string) {
    this.session = h2connect('http://localhost', { createConnection: () => netConnect(socketPath) });
    this.session.on('error', () => {});
  }

  /** Calls /service/method with one message; resolves the decoded reply or rejects with grpc-status and message. */
  call(path: string, m: Msg, timeoutMs = 60_000): Promise<Decoded> {
    const body = encode(m);
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    return new Promise((resolve, reject) => {
      const req = this.session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      req.setTimeout(timeoutMs, () => req.close());
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = '';
      const take = (h: Record<string, unknown>) => {
        if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
        if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
      };
      req.on('response', take);
      req.on('trailers', take);
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('error', reject);
      req.on('close', () => {
        if (status !== '0') return reject(new Error(`${path}: grpc-status ${status ?? '(none)'}: ${message}`));
        const all = Buffer.concat(chunks);
        resolve(decode(all.length >= 5 ? all.subarray(5, 5 + all.readUInt32BE(1)) : Buffer.alloc(0)));
      });
      req.end(frame);
    });
  }

  close(): void {
    this.session.close();
  }
}
