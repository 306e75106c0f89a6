// `tscni port` lines, as docker port prints them.

import test from 'ava';
import { portLines } from '../../../../lib/runner/cli/port.ts';
import { publishedOn } from '../../../../lib/runner/container/network/ports.ts';

test('portLines: sorted by container port and protocol; v6 host addresses bracketed; one private port', (t) => {
  const ports = [
    { hostIP: '', hostPort: 32769, containerPort: 80, protocol: 'udp' as const },
    { hostIP: '::1', hostPort: 32770, containerPort: 80, protocol: 'tcp' as const },
    { hostIP: '', hostPort: 32768, containerPort: 80, protocol: 'tcp' as const },
    { hostIP: '127.0.0.1', hostPort: 8053, containerPort: 53, protocol: 'udp' as const },
  ];
  t.deepEqual(portLines(ports), ['53/udp -> 127.0.0.1:8053', '80/tcp -> 0.0.0.0:32768', '80/tcp -> [::1]:32770', '80/udp -> 0.0.0.0:32769']);
  t.deepEqual(portLines(ports, { port: 80, protocol: 'tcp' }), ['0.0.0.0:32768', '[::1]:32770']);
  t.deepEqual(portLines(ports, { port: 81, protocol: 'tcp' }), []);
});

test('publishedOn: no host IP is 0.0.0.0, and [::] too on a dual-stack network (docker port prints both)', (t) => {
  const ports = [
    { hostIP: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const },
    { hostIP: '127.0.0.1', hostPort: 8053, containerPort: 53, protocol: 'udp' as const },
    { hostIP: '::1', hostPort: 8081, containerPort: 80, protocol: 'tcp' as const },
  ];
  t.deepEqual(portLines(publishedOn(ports, true)), ['53/udp -> 127.0.0.1:8053', '80/tcp -> 0.0.0.0:8080', '80/tcp -> [::]:8080', '80/tcp -> [::1]:8081']);
  t.deepEqual(portLines(publishedOn(ports, false)), ['53/udp -> 127.0.0.1:8053', '80/tcp -> 0.0.0.0:8080', '80/tcp -> [::1]:8081']);
  t.deepEqual(portLines(publishedOn(ports, true), { port: 80, protocol: 'tcp' }), ['0.0.0.0:8080', '[::]:8080', '[::1]:8081']);
});
