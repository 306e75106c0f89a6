// portmap's host helpers (pure parts): the route toward a container from /proc/net/route, conntrack argv.

import test from 'ava';
import { conntrackArgv, routeInterface } from '../../../plugins/portmap/host.ts';
import { entriesOf } from '../../../plugins/portmap/rules.ts';
import { cfgOf, v4, v6 } from './fixtures.ts';

test('host helpers: longest-prefix route interface from /proc/net/route, conntrack argv per UDP port and family', (t) => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'br0\t0000580A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'cni1\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0',
  ].join('\n');
  t.is(routeInterface(table, '10.88.0.5'), 'br0');
  t.is(routeInterface(table, '10.1.0.5'), 'cni1');
  t.is(routeInterface(table, '8.8.8.8'), 'eth0');
  const e = entriesOf(cfgOf([{ hostPort: 53, containerPort: 53, protocol: 'udp' }, { hostPort: 54, containerPort: 53, protocol: 'udp', hostIP: 'fd00::54' }, { hostPort: 80, containerPort: 80 }]), [v4, v6]);
  t.deepEqual(conntrackArgv(e), [
    ['-D', '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', '53'],
    ['-D', '-f', 'ipv6', '-p', 'udp', '--orig-port-dst', '53'],
    ['-D', '-f', 'ipv6', '-p', 'udp', '--orig-port-dst', '54'],
  ]);
});

test('routeInterface: no route, an IPv6 or malformed address, an empty table; conntrackArgv: nothing for TCP', (t) => {
  const table = ['Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT', 'br0\t0000580A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0'].join('\n');
  t.is(routeInterface(table, '10.89.0.1'), undefined);
  t.is(routeInterface(table, 'fd88::5'), undefined);
  t.is(routeInterface(table, '10.88.0'), undefined);
  t.is(routeInterface('', '10.88.0.5'), undefined);
  t.is(routeInterface(`${table}\nbr1\t0500580A\t00000000\t0001\t0\t0\t0\tFFFFFFFF\t0\t0\t0`, '10.88.0.5'), 'br1', 'a host route beats the subnet');
  t.deepEqual(conntrackArgv(entriesOf(cfgOf([{ hostPort: 80, containerPort: 80 }]), [v4, v6])), []);
});
