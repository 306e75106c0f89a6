// A stand-in upstream resolver for tests (run with node inside a test netns): answers A for the names given as
// NAME=IP arguments, NXDOMAIN for everything else, on 0.0.0.0:53/udp. Prints "ready" once bound.

import { createSocket } from 'node:dgram';
import { buildAnswer, parseQuery, RCODE, TYPE } from '../../lib/runner/dns/codec.ts';

const table = new Map(process.argv.slice(2).map((a) => a.split('=') as [string, string]));
const sock = createSocket('udp4');
sock.on('message', (msg, from) => {
  const q = parseQuery(msg);
  if (!q) return;
  const ip = table.get(q.name);
  const reply = ip ? buildAnswer(q, RCODE.NOERROR, q.type === TYPE.A ? [ip] : [], 60) : buildAnswer(q, RCODE.NXDOMAIN, []);
  sock.send(reply, from.port, from.address);
});
sock.bind(53, '0.0.0.0', () => process.stdout.write('ready\n'));
