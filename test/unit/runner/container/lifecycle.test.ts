// docker's NetworkSettings from a CNI result (moved from test/e2e/runner-pure.test.ts, plus the fallbacks).

import test from 'ava';
import { networkSettingsFrom } from '../../../../lib/runner/container/network/network-attach.ts';

test('NetworkSettings from a bridge result', (t) => {
  const result = { interfaces: [{ name: 'br0', mac: 'aa' }, { name: 'veth1', mac: 'bb' }, { name: 'eth0', mac: 'cc', sandbox: '/n' }], ips: [{ address: 'fd00::2/64', interface: 2 }, { address: '10.42.0.7/24', gateway: '10.42.0.1', interface: 2 }] };
  t.deepEqual(networkSettingsFrom(result, '/n'), { IPAddress: '10.42.0.7', IPPrefixLen: 24, Gateway: '10.42.0.1', MacAddress: 'cc', GlobalIPv6Address: 'fd00::2', GlobalIPv6PrefixLen: 64 });
  const gw6 = { ...result, ips: [{ address: 'fd00::2/64', gateway: 'fd00::1', interface: 2 }, result.ips[1]] };
  t.deepEqual(networkSettingsFrom(gw6, '/n'), { IPAddress: '10.42.0.7', IPPrefixLen: 24, Gateway: '10.42.0.1', MacAddress: 'cc', GlobalIPv6Address: 'fd00::2', GlobalIPv6PrefixLen: 64, IPv6Gateway: 'fd00::1' });
});

test('NetworkSettings: no result, another sandbox interface, an IPv6-only result', (t) => {
  t.deepEqual(networkSettingsFrom(undefined, '/n'), { IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '' });
  const other = { interfaces: [{ name: 'net1', mac: 'dd', sandbox: '/other' }], ips: [{ address: '10.1.0.3/16' }] };
  t.deepEqual(networkSettingsFrom(other, '/n'), { IPAddress: '10.1.0.3', IPPrefixLen: 16, Gateway: '', MacAddress: 'dd' });
  const v6 = { interfaces: [{ name: 'eth0', sandbox: '/n' }], ips: [{ address: 'fd00::9/64', gateway: 'fd00::1', interface: 0 }] };
  t.deepEqual(networkSettingsFrom(v6, '/n'), { IPAddress: 'fd00::9', IPPrefixLen: 64, Gateway: 'fd00::1', MacAddress: '' });
});
