// The DNS codec, byte for byte.

import test from 'ava';
import { buildAnswer, buildError, buildQuery, parseQuery, RCODE, TYPE } from '../../../../lib/runner/dns/codec.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// id 0x1234, RD, one question: web.example A IN
const QUERY = hex('1234 0100 0001 0000 0000 0000 03776562 076578616d706c65 00 0001 0001');

test('buildQuery writes the header, the labels and type/class exactly', (t) => {
  t.deepEqual(buildQuery(0x1234, 'web.example', TYPE.A), QUERY);
  t.deepEqual(buildQuery(1, 'db', TYPE.AAAA), hex('0001 0100 0001 0000 0000 0000 026462 00 001c 0001'));
});

test('parseQuery: id, RD, lower-cased name, type, class, the raw question; responses and empty ones dropped', (t) => {
  const q = parseQuery(hex('beef 0100 0001 0000 0000 0000 03574542 00 001c 0001'))!;
  t.deepEqual({ ...q, raw: q.raw.toString('hex') }, { id: 0xbeef, rd: true, opcode: 0, name: 'web', type: 28, qclass: 1, raw: '0357454200001c0001' });
  t.is(parseQuery(hex('beef 8100 0001 0000 0000 0000 00 0001 0001')), undefined);
  t.is(parseQuery(hex('beef 0100 0000 0000 0000 0000')), undefined);
  t.is(parseQuery(hex('beef 01')), undefined);
  t.throws(() => parseQuery(hex('beef 0100 0001 0000 0000 0000 05616263')), { message: 'bad label length' });
  t.throws(() => parseQuery(hex('beef 0100 0001 0000 0000 0000 c00c')), { message: 'too many name pointers' });
  t.throws(() => parseQuery(hex('beef 0100 0001 0000 0000 0000 026462 00 00')), { message: 'truncated question' });
});

test('buildAnswer: QR AA RD RA, the question copied, answers pointing at it; only addresses of the asked family', (t) => {
  const q = parseQuery(QUERY)!;
  t.deepEqual(buildAnswer(q, RCODE.NOERROR, ['10.99.81.2', 'fd00::2', '10.99.81.3'], 600), hex(
    '1234 8580 0001 0002 0000 0000 03776562 076578616d706c65 00 0001 0001' +
    'c00c 0001 0001 00000258 0004 0a635102' +
    'c00c 0001 0001 00000258 0004 0a635103',
  ));
  const q6 = parseQuery(buildQuery(7, 'db', TYPE.AAAA))!;
  t.deepEqual(buildAnswer(q6, RCODE.NOERROR, ['10.0.0.1', 'fd00::1:2']), hex(
    '0007 8580 0001 0001 0000 0000 026462 00 001c 0001' +
    'c00c 001c 0001 00000000 0010 fd000000000000000000000000010002',
  ));
  t.deepEqual(buildAnswer(q, RCODE.NXDOMAIN, []), hex('1234 8583 0001 0000 0000 0000 03776562 076578616d706c65 00 0001 0001'));
  t.deepEqual(buildAnswer(q, RCODE.REFUSED, ['10.0.0.1']).subarray(0, 8), hex('1234 8585 0001 0001'));
  t.deepEqual(buildError(hex('abcd 0100 0001'), RCODE.FORMERR), hex('abcd 8081 0000 0000 0000 0000'));
  t.deepEqual(buildError(hex('abcd'), RCODE.SERVFAIL), hex('abcd 8082 0000 0000 0000 0000'));
  t.is(buildError(hex('ab'), RCODE.FORMERR), undefined);
});
