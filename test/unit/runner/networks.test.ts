// Networks: subnet overlap (the first test moved from test/e2e/runner-pure.test.ts unchanged) and what
// `network create` validates and writes.

import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dnsEnabled, createNetwork, subnetRanges, listNetworks, subnetsOverlap } from '../../../lib/runner/networks.ts';
import type { RunnerPaths } from '../../../lib/runner/paths.ts';

test('subnet overlap', (t) => {
  t.true(subnetsOverlap('10.42.0.0/24', '10.42.0.128/25'));
  t.true(subnetsOverlap('10.0.0.0/8', '10.42.0.0/24'));
  t.false(subnetsOverlap('10.42.0.0/24', '10.42.1.0/24'));
  t.false(subnetsOverlap('10.42.0.0/24', 'fd00::/64'));
  t.true(subnetsOverlap('fd00::/64', 'fd00::1:0/112'));
});

test('subnet overlap: edges, bare addresses, invalid CIDRs', (t) => {
  t.false(subnetsOverlap('10.42.0.0/25', '10.42.0.128/25'));
  t.true(subnetsOverlap('10.42.0.127/25', '10.42.0.0/25'));
  t.true(subnetsOverlap('0.0.0.0/0', '192.168.1.0/24'));
  t.true(subnetsOverlap('10.42.0.7', '10.42.0.0/24'));
  t.false(subnetsOverlap('10.42.0.7', '10.42.0.8'));
  t.false(subnetsOverlap('fd00::/64', 'fd00:0:0:1::/64'));
  for (const bad of ['10.42.0.0/33', '10.42.0/24', '10.42.0.0/', 'fd00::/129', 'x', '']) {
    t.throws(() => subnetsOverlap(bad, '10.0.0.0/8'), { message: `invalid subnet ${JSON.stringify(bad)}: expected a CIDR like 10.43.0.0/24` }, bad);
  }
});

/** Paths with an empty NETCONFPATH; selfDir decides whether the bundled default network (conf/) is seen. */
function paths(t: { teardown(fn: () => void): void }, withDefault: boolean): RunnerPaths {
  const dir = mkdtempSync(join(tmpdir(), 'tscni-unit-networks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const selfDir = withDefault ? resolve(import.meta.dirname, '../../../dist/bin') : join(dir, 'no', 'bin');
  return { netconfDir: join(dir, 'net.d'), cacheDir: join(dir, 'cache'), stateRoot: join(dir, 'state'), netnsDir: '/var/run/netns', cniPath: [], selfDir, runtime: 'runc', runtimeRoot: join(dir, 'runc'), initBinary: '/usr/bin/tini-static' };
}

test('network create writes bridge + host-local + portmap to 20-NAME.conflist, with tscni\'s resolver on', (t) => {
  const p = paths(t, false);
  const file = createNetwork(p, { name: 'blue', subnets: ['10.77.0.0/24'], gateways: ['10.77.0.254'], ipMasq: false });
  t.is(file, join(p.netconfDir, '20-blue.conflist'));
  t.deepEqual(readdirSync(p.netconfDir), ['20-blue.conflist']);
  t.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {
    cniVersion: '1.1.0',
    name: 'blue',
    tscni: { dns: true },
    plugins: [
      { type: 'bridge', bridge: 'tscni-blue', isGateway: true, ipMasq: false, hairpinMode: true, capabilities: { ips: true, mac: true }, ipam: { type: 'host-local', ranges: [[{ subnet: '10.77.0.0/24', gateway: '10.77.0.254' }]], routes: [{ dst: '0.0.0.0/0' }] } },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  });
  // The default bridge name is cut to the kernel's 15 bytes.
  createNetwork(p, { name: 'averylongname', subnets: ['10.78.0.0/24'], ipMasq: true });
  t.is(JSON.parse(readFileSync(join(p.netconfDir, '20-averylongname.conflist'), 'utf8')).plugins[0].bridge, 'tscni-averylong');
  t.true(dnsEnabled({ bytes: readFileSync(file) }));
  t.false(dnsEnabled({ bytes: Buffer.from('{"name":"x","plugins":[]}') }));
  t.false(dnsEnabled({ bytes: Buffer.from('{"tscni":{"dns":"yes"}}') }));
  t.false(dnsEnabled({ bytes: Buffer.from('not json') }));
  t.throws(() => createNetwork(p, { name: 'none', subnets: ['10.79.0.0/24'], ipMasq: true }), { message: 'invalid network name "none": it is a network mode (run --network none)' });
  // --internal: no default route, no masquerade; -o icc=false recorded for the runner.
  const internal = JSON.parse(readFileSync(createNetwork(p, { name: 'inside', subnets: ['10.80.0.0/24'], ipMasq: true, internal: true, icc: false }), 'utf8'));
  t.deepEqual([internal.tscni, internal.plugins[0].ipMasq, internal.plugins[0].ipam.routes], [{ dns: true, internal: true, icc: false }, false, []]);
});

test('network create with two --subnet (one per family): dual-stack ranges and default routes, gateways by family', (t) => {
  const p = paths(t, false);
  const dual = JSON.parse(readFileSync(createNetwork(p, { name: 'dual', subnets: ['fd00:77::/64', '10.77.0.0/24'], gateways: ['10.77.0.1', 'fd00:77::fe'], ipMasq: true }), 'utf8'));
  t.deepEqual(dual.plugins[0].ipam, { type: 'host-local', ranges: [[{ subnet: 'fd00:77::/64', gateway: 'fd00:77::fe' }], [{ subnet: '10.77.0.0/24', gateway: '10.77.0.1' }]], routes: [{ dst: '::/0' }, { dst: '0.0.0.0/0' }] });
  t.deepEqual(listNetworks(p).map((n) => n.subnets), [['fd00:77::/64', '10.77.0.0/24']]);
  const v6 = JSON.parse(readFileSync(createNetwork(p, { name: 'six', subnets: ['fd00:78::/64'], ipMasq: true, internal: true }), 'utf8'));
  t.deepEqual(v6.plugins[0].ipam, { type: 'host-local', ranges: [[{ subnet: 'fd00:78::/64' }]], routes: [] });
  t.deepEqual(subnetRanges(['10.1.0.0/24']), [{ subnet: '10.1.0.0/24' }]);
  const fails = (subnets: string[], gateways?: string[]) => {
    const e = t.throws(() => subnetRanges(subnets, gateways));
    return [(e as unknown as { exitCode: number }).exitCode, e?.message];
  };
  t.deepEqual(fails([]), [2, 'network create: --subnet CIDR is required']);
  t.deepEqual(fails(['10.1.0.0/24', '10.2.0.0/24']), [2, 'invalid --subnet "10.2.0.0/24": one IPv4 subnet per network (a second --subnet is for the other family)']);
  t.deepEqual(fails(['fd00::/64', 'fd01::/64']), [2, 'invalid --subnet "fd01::/64": one IPv6 subnet per network (a second --subnet is for the other family)']);
  t.deepEqual(fails(['10.1.0.7/24']), [2, 'invalid --subnet "10.1.0.7/24": host bits set (it should be 10.1.0.0/24)']);
  t.deepEqual(fails(['fd00::1/64']), [2, 'invalid --subnet "fd00::1/64": host bits set (it should be fd00::/64)']);
  t.deepEqual(fails(['10.1.0.1']), [2, 'invalid --subnet "10.1.0.1": expected a CIDR like 10.43.0.0/24 or fd00:43::/64']);
  t.deepEqual(fails(['10.1.0.0/24'], ['fd00::1']), [2, 'invalid --gateway "fd00::1": no IPv6 --subnet to put it in']);
  t.deepEqual(fails(['10.1.0.0/24'], ['10.2.0.1']), [2, 'invalid --gateway "10.2.0.1": not in --subnet 10.1.0.0/24']);
  t.deepEqual(fails(['10.1.0.0/24'], ['10.1.0.1', '10.1.0.2']), [2, 'invalid --gateway "10.1.0.2": one gateway per subnet (10.1.0.1 is 10.1.0.0/24\'s)']);
  t.deepEqual(fails(['10.1.0.0/24'], ['gw']), [2, 'invalid --gateway "gw": not an IP address']);
  // An overlap in either family is refused, and nothing is written.
  const e = t.throws(() => createNetwork(p, { name: 'x', subnets: ['10.99.0.0/24', 'fd00:77:0:0::/80'], ipMasq: true }));
  t.is(e?.message, 'subnet fd00:77:0:0::/80 overlaps fd00:77::/64 of network dual');
  t.deepEqual(readdirSync(p.netconfDir).sort(), ['20-dual.conflist', '20-six.conflist']);
});

test('network create refuses bad names, bad subnets, long bridges, existing names and overlapping subnets', (t) => {
  const p = paths(t, false);
  mkdirSync(p.netconfDir, { recursive: true });
  writeFileSync(join(p.netconfDir, '10-red.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'red', plugins: [{ type: 'bridge', ipam: { type: 'host-local', subnet: '10.80.0.0/16' } }] }));
  const fails = (o: Parameters<typeof createNetwork>[1]) => {
    const e = t.throws(() => createNetwork(p, o));
    return [(e as unknown as { exitCode: number }).exitCode, e?.message];
  };
  t.deepEqual(fails({ name: '-x', subnets: ['10.1.0.0/24'], ipMasq: true }), [2, 'invalid network name "-x": letters, digits, _ . - only']);
  t.deepEqual(fails({ name: 'x', subnets: ['10.1.0.0/40'], ipMasq: true }), [2, 'invalid subnet "10.1.0.0/40": expected a CIDR like 10.43.0.0/24']);
  t.deepEqual(fails({ name: 'x', subnets: ['10.1.0.0/24'], bridge: 'a-bridge-name-too-long', ipMasq: true }), [2, 'invalid bridge name "a-bridge-name-too-long": at most 15 bytes']);
  t.deepEqual(fails({ name: 'red', subnets: ['10.1.0.0/24'], ipMasq: true }), [4, `network red already exists (${join(p.netconfDir, '10-red.conflist')})`]);
  t.deepEqual(fails({ name: 'x', subnets: ['10.80.3.0/24'], ipMasq: true }), [4, 'subnet 10.80.3.0/24 overlaps 10.80.0.0/16 of network red']);
  t.deepEqual(readdirSync(p.netconfDir), ['10-red.conflist']);
});

test('the bundled default network counts: its subnet cannot be taken again', (t) => {
  const p = paths(t, true);
  t.deepEqual(listNetworks(p).map((n) => [n.name, n.bridge, n.subnets, n.plugins]), [['tscni', 'tscni0', ['10.42.0.0/24'], ['bridge', 'portmap', 'loopback']]]);
  t.throws(() => createNetwork(p, { name: 'x', subnets: ['10.42.0.0/16'], ipMasq: true }), { message: 'subnet 10.42.0.0/16 overlaps 10.42.0.0/24 of network tscni' });
});
