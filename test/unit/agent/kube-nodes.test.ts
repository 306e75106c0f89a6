// Node objects as peers: InternalIPs (one per family), spec.podCIDRs (or the older podCIDR); not yet routable → none.

import test from 'ava';
import { nodeToPeer } from '../../../lib/agent/kube-nodes.ts';

test('a Node object becomes {name, address, podCIDRs}', (t) => {
  t.deepEqual(nodeToPeer({
    metadata: { name: 'w1' },
    spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24', 'fd00:244:1::/64'] },
    status: { addresses: [{ type: 'Hostname', address: 'w1' }, { type: 'ExternalIP', address: '203.0.113.9' }, { type: 'InternalIP', address: '192.168.1.11' }, { type: 'InternalIP', address: '192.168.1.99' }, { type: 'InternalIP', address: 'fd00:1::11' }] },
  }), { name: 'w1', address: ['192.168.1.11', 'fd00:1::11'], podCIDRs: ['10.244.1.0/24', 'fd00:244:1::/64'] });
  t.deepEqual(nodeToPeer({ metadata: { name: 'old' }, spec: { podCIDR: '10.244.2.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.1.12' }] } }),
    { name: 'old', address: ['192.168.1.12'], podCIDRs: ['10.244.2.0/24'] });
});

test('a node without a pod CIDR or an InternalIP is not a peer yet', (t) => {
  t.is(nodeToPeer({ metadata: { name: 'new' }, spec: {}, status: { addresses: [{ type: 'InternalIP', address: '192.168.1.13' }] } }), undefined);
  t.is(nodeToPeer({ metadata: { name: 'new' }, spec: { podCIDRs: ['10.244.3.0/24'] }, status: { addresses: [{ type: 'Hostname', address: 'new' }] } }), undefined);
  t.is(nodeToPeer(undefined), undefined);
});
