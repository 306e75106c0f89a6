// The dry-run's planned result: what a bridge-like first plugin would most likely return.

import test from 'ava';
import { plannedResult } from '../../../lib/libcni/dry-run.ts';
import type { ConfList } from '../../../lib/libcni/conflist.ts';

const list = (first: Record<string, unknown>): ConfList => ({ name: 'n', cniVersion: '1.0.0', disableCheck: false, disableGC: false, plugins: [{ type: 'bridge', ...first }], bytes: Buffer.from(''), file: '' });
const rt = { containerId: 'c', netns: '/var/run/netns/c', ifName: 'eth0' };

test('the first address after the gateway of every IPv4 range, the gateway given or the first address', (t) => {
  const l = list({ bridge: 'br9', ipam: { type: 'host-local', ranges: [[{ subnet: '10.42.0.0/24' }, { subnet: '10.43.255.255/16', gateway: '10.43.0.9' }], [{ subnet: 'fd00::/64' }]] } });
  t.deepEqual(plannedResult(l, rt), {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'br9' }, { name: 'veth-planned' }, { name: 'eth0', sandbox: '/var/run/netns/c' }],
    ips: [
      { address: '10.42.0.2/24', gateway: '10.42.0.1', interface: 2 },
      { address: '10.44.0.1/16', gateway: '10.43.0.9', interface: 2 },
    ],
  });
});

test('an old-style ipam.subnet, no ipam at all, and a default bridge name', (t) => {
  t.deepEqual(plannedResult(list({ ipam: { type: 'host-local', subnet: '192.168.7.0/30' } }), rt).ips, [{ address: '192.168.7.2/30', gateway: '192.168.7.1', interface: 2 }]);
  t.deepEqual(plannedResult(list({}), rt), { cniVersion: '1.0.0', interfaces: [{ name: 'cni0' }, { name: 'veth-planned' }, { name: 'eth0', sandbox: '/var/run/netns/c' }], ips: [] });
  t.deepEqual(plannedResult(list({ ipam: { subnet: '10.1.2.3' } }), rt).ips, []);
});
