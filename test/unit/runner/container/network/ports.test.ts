// -p/--publish parsing and the one meaning of "the same host port" (run, start and explain use it).
// The first two tests moved from test/e2e/runner-pure.test.ts unchanged.

import test from 'ava';
import { checkPortsFree, exposedRequests, parsePublish, publishedAt, samePort } from '../../../../../lib/runner/container/network/ports.ts';
import { assignPorts, EPHEMERAL_RANGE } from '../../../../../lib/runner/container/network/port-pick.ts';
import { kernelPorts, proxiedPorts } from '../../../../../lib/runner/container/network/loopback-proxy.ts';

test('-p specs', (t) => {
  t.deepEqual(parsePublish('8080:80'), [{ hostIP: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  t.deepEqual(parsePublish('127.0.0.1:53:5353/udp'), [{ hostIP: '127.0.0.1', hostPort: 53, containerPort: 5353, protocol: 'udp' }]);
  t.deepEqual(parsePublish('[::1]:9000-9001:90-91/udp'), [
    { hostIP: '::1', hostPort: 9000, containerPort: 90, protocol: 'udp' },
    { hostIP: '::1', hostPort: 9001, containerPort: 91, protocol: 'udp' },
  ]);
  t.throws(() => parsePublish('70000:80'), { message: 'invalid host port 70000 in -p 70000:80: must be 1-65535' });
  t.throws(() => parsePublish('80:80/icmp'), { message: 'invalid protocol "icmp" in -p 80:80/icmp: must be tcp, udp or sctp' });
  t.throws(() => parsePublish('1-3:1-2'), { message: 'invalid -p 1-3:1-2: host and container port ranges differ in size' });
  t.throws(() => parsePublish('x.y:1:2'), { message: 'invalid host IP "x.y" in -p x.y:1:2' });
  t.deepEqual(parsePublish('80'), [{ hostIP: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
});

test('-p with IPv6 host IPs: brackets, one spelling per address, sctp refused on [::1], bad addresses named', (t) => {
  t.deepEqual(parsePublish('[0:0:0:0:0:0:0:1]:8080:80'), [{ hostIP: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  t.deepEqual(parsePublish('[2001:DB8::1]:8080:80/udp'), [{ hostIP: '2001:db8::1', hostPort: 8080, containerPort: 80, protocol: 'udp' }]);
  t.deepEqual(parsePublish('[::]::80'), [{ hostIP: '::', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
  t.deepEqual(parsePublish('[2001:db8::1]:8080:80/sctp'), [{ hostIP: '2001:db8::1', hostPort: 8080, containerPort: 80, protocol: 'sctp' }]);
  t.throws(() => parsePublish('[::1]:8080:80/sctp'), { message: 'invalid -p [::1]:8080:80/sctp: sctp cannot be published on [::1] (the kernel cannot DNAT ::1 and the userland proxy forwards tcp and udp only)' });
  t.throws(() => parsePublish('[::1::]:8080:80'), { message: 'invalid host IP "::1::" in -p [::1::]:8080:80' });
  t.throws(() => parsePublish('[fe80::1%eth0]:8080:80'), { message: 'invalid host IP "fe80::1%eth0" in -p [fe80::1%eth0]:8080:80' });
  t.throws(() => parsePublish('[127.0.0.1]:8080:80'), { message: 'invalid host IP "127.0.0.1" in -p [127.0.0.1]:8080:80: brackets are for IPv6 addresses' });
  t.throws(() => parsePublish('::1:8080:80'), { message: 'invalid -p ::1:8080:80: expected [[hostIP:][hostPort]:]containerPort[/protocol] (an IPv6 host IP goes in brackets: -p [::1]:8080:80)' });
});

test('port conflicts: same protocol and port, any address overlapping', (t) => {
  const used = [{ owner: 'a', ports: parsePublish('127.0.0.1:8080:80') }];
  t.throws(() => checkPortsFree(parsePublish('8080:80'), used), { message: 'Bind for 0.0.0.0:8080 failed: port is already allocated (by container a)' });
  t.notThrows(() => checkPortsFree(parsePublish('127.0.0.2:8080:80'), used));
  t.notThrows(() => checkPortsFree(parsePublish('8080:80/udp'), used));
  t.throws(() => checkPortsFree([...parsePublish('81:80'), ...parsePublish('81:82')], []), { message: 'port is already allocated: 81/tcp is published twice' });
});

test('-p: protocol case, ranges, zero and reversed ranges, missing parts', (t) => {
  t.deepEqual(parsePublish('10.0.0.1:8000-8002:80-82/UDP'), [
    { hostIP: '10.0.0.1', hostPort: 8000, containerPort: 80, protocol: 'udp' },
    { hostIP: '10.0.0.1', hostPort: 8001, containerPort: 81, protocol: 'udp' },
    { hostIP: '10.0.0.1', hostPort: 8002, containerPort: 82, protocol: 'udp' },
  ]);
  t.deepEqual(parsePublish('65535:1'), [{ hostIP: '', hostPort: 65535, containerPort: 1, protocol: 'tcp' }]);
  t.throws(() => parsePublish('0:80'), { message: 'invalid host port 0 in -p 0:80: must be 1-65535' });
  t.throws(() => parsePublish('80:0'), { message: 'invalid container port 0 in -p 80:0: must be 1-65535' });
  t.throws(() => parsePublish('9-8:1-2'), { message: 'invalid host port range 9-8 in -p 9-8:1-2: end is below start' });
  t.throws(() => parsePublish(':80'), { message: 'invalid host port "" in -p :80: expected PORT or START-END' });
  t.throws(() => parsePublish('80:http'), { message: 'invalid container port "http" in -p 80:http: expected PORT or START-END' });
  t.throws(() => parsePublish('1:2:3:4'), { message: 'invalid -p 1:2:3:4: expected [[hostIP:][hostPort]:]containerPort[/protocol]' });
});

test('samePort: protocol and port equal, addresses overlapping (empty is every address)', (t) => {
  const m = (hostIP: string, hostPort: number, protocol: 'tcp' | 'udp' | 'sctp') => ({ hostIP, hostPort, protocol });
  t.true(samePort(m('', 80, 'tcp'), m('', 80, 'tcp')));
  t.true(samePort(m('', 80, 'tcp'), m('10.0.0.1', 80, 'tcp')));
  t.true(samePort(m('10.0.0.1', 80, 'tcp'), m('', 80, 'tcp')));
  t.true(samePort(m('10.0.0.1', 80, 'tcp'), m('10.0.0.1', 80, 'tcp')));
  t.false(samePort(m('10.0.0.1', 80, 'tcp'), m('10.0.0.2', 80, 'tcp')));
  t.false(samePort(m('', 80, 'tcp'), m('', 80, 'udp')));
  t.false(samePort(m('', 80, 'tcp'), m('', 81, 'tcp')));
});

test('checkPortsFree names the first owner that holds a wanted port, with the wanted address', (t) => {
  const used = [{ owner: 'a', ports: parsePublish('9000:90') }, { owner: 'b', ports: parsePublish('[::1]:9001:91/udp') }];
  t.throws(() => checkPortsFree(parsePublish('127.0.0.1:9000:80'), used), { message: 'Bind for 127.0.0.1:9000 failed: port is already allocated (by container a)' });
  t.throws(() => checkPortsFree(parsePublish('9001:80/udp'), used), { message: 'Bind for 0.0.0.0:9001 failed: port is already allocated (by container b)' });
  t.notThrows(() => checkPortsFree(parsePublish('9001:80'), used));
  t.notThrows(() => checkPortsFree([], used));
});

test("publishedAt: explain's lookup by host port and protocol, on any address", (t) => {
  const ports = [...parsePublish('127.0.0.1:8080:80'), ...parsePublish('53:53/udp')];
  t.deepEqual(publishedAt(ports, 8080, 'tcp'), { hostIP: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
  t.deepEqual(publishedAt(ports, 53, 'udp'), { hostIP: '', hostPort: 53, containerPort: 53, protocol: 'udp' });
  t.is(publishedAt(ports, 53, 'tcp'), undefined);
  t.is(publishedAt(ports, 8081, 'tcp'), undefined);
});

test('-p with a host port to pick: bare, with an address, container ranges, a host range for one port', (t) => {
  t.deepEqual(parsePublish('127.0.0.1::80'), [{ hostIP: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
  t.deepEqual(parsePublish('[::1]::53/udp'), [{ hostIP: '::1', hostPort: 0, containerPort: 53, protocol: 'udp' }]);
  t.deepEqual(parsePublish('80-81'), [
    { hostIP: '', hostPort: 0, containerPort: 80, protocol: 'tcp' },
    { hostIP: '', hostPort: 0, containerPort: 81, protocol: 'tcp' },
  ]);
  t.deepEqual(parsePublish('8000-8010:80'), [{ hostIP: '', hostPort: 0, containerPort: 80, protocol: 'tcp', hostRange: [8000, 8010] }]);
  t.throws(() => parsePublish('8000-8010:80-81'), { message: 'invalid -p 8000-8010:80-81: host and container port ranges differ in size' });
  t.throws(() => parsePublish('70000'), { message: 'invalid container port 70000 in -p 70000: must be 1-65535' });
  t.deepEqual(exposedRequests({ '80/tcp': {}, '53/udp': {}, '8080': {} }), [
    { hostIP: '', hostPort: 0, containerPort: 53, protocol: 'udp' },
    { hostIP: '', hostPort: 0, containerPort: 80, protocol: 'tcp' },
    { hostIP: '', hostPort: 0, containerPort: 8080, protocol: 'tcp' },
  ]);
});

test('assignPorts: fixed kept, picks skip held, earlier picks and what the probe refuses; exhausted ranges refused', async (t) => {
  const probed: number[] = [];
  const free = async (m: { hostPort: number }) => {
    probed.push(m.hostPort);
    return m.hostPort !== 32770;
  };
  const held = [{ hostIP: '127.0.0.1', hostPort: 32768, protocol: 'tcp' as const }];
  const got = await assignPorts([...parsePublish('80'), ...parsePublish('32769:81'), ...parsePublish('10.0.0.1::82'), ...parsePublish('80/udp')], held, free);
  t.deepEqual(got, [
    { hostIP: '', hostPort: 32771, containerPort: 80, protocol: 'tcp' },
    { hostIP: '', hostPort: 32769, containerPort: 81, protocol: 'tcp' },
    { hostIP: '10.0.0.1', hostPort: 32768, containerPort: 82, protocol: 'tcp' },
    { hostIP: '', hostPort: 32768, containerPort: 80, protocol: 'udp' },
  ]);
  // 32768 is held on 127.0.0.1 only: 10.0.0.1 may have it; 32769 is the fixed mapping's.
  t.deepEqual(probed, [32770, 32771, 32768, 32768]);
  await t.throwsAsync(assignPorts(parsePublish('9000-9001:80'), [{ hostIP: '', hostPort: 9000, protocol: 'tcp' }], async () => false), {
    message: 'no free host port in 9000-9001 for 0.0.0.0:?->80/tcp: every one is allocated or in use',
  });
  t.is(EPHEMERAL_RANGE.join('-'), '32768-60999');
});

test('[::1] ports go to the userland proxy, never to portmap; [::] to both (the proxy takes its ::1 side); sctp never proxied', (t) => {
  const ports = [...parsePublish('[::1]:8080:80'), ...parsePublish('[::]:8081:80/udp'), ...parsePublish('8082:80'), ...parsePublish('127.0.0.1:8083:80'), ...parsePublish('[::]:8084:80/sctp')];
  t.deepEqual(proxiedPorts(ports).map((p) => `${p.hostIP} ${p.hostPort}/${p.protocol}`), ['::1 8080/tcp', ':: 8081/udp']);
  // Dual stack: -p 8080:80 gets its [::1] side too (docker's [::] binding); 127.0.0.1 and sctp never.
  t.deepEqual(proxiedPorts([...ports, ...parsePublish('8085:80/sctp')], true).map((p) => `${p.hostIP} ${p.hostPort}/${p.protocol}`), ['::1 8080/tcp', ':: 8081/udp', ' 8082/tcp']);
  t.deepEqual(kernelPorts(ports).map((p) => p.hostPort), [8081, 8082, 8083, 8084]);
});
