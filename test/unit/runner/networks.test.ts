// Networks: subnet overlap (the first test moved from test/e2e/runner-pure.test.ts unchanged) and what
// `network create` validates and writes.

import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dnsEnabled, createNetwork, listNetworks, subnetsOverlap } from '../../../lib/runner/networks.ts';
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
  const file = createNetwork(p, { name: 'blue', subnet: '10.77.0.0/24', gateway: '10.77.0.254', ipMasq: false });
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
  createNetwork(p, { name: 'averylongname', subnet: '10.78.0.0/24', ipMasq: true });
  t.is(JSON.parse(readFileSync(join(p.netconfDir, '20-averylongname.conflist'), 'utf8')).plugins[0].bridge, 'tscni-averylong');
  t.true(dnsEnabled({ bytes: readFileSync(file) }));
  t.false(dnsEnabled({ bytes: Buffer.from('{"name":"x","plugins":[]}') }));
  t.false(dnsEnabled({ bytes: Buffer.from('{"tscni":{"dns":"yes"}}') }));
  t.false(dnsEnabled({ bytes: Buffer.from('not json') }));
  t.throws(() => createNetwork(p, { name: 'none', subnet: '10.79.0.0/24', ipMasq: true }), { message: 'invalid network name "none": it is a network mode (run --network none)' });
  // --internal: no default route, no masquerade; -o icc=false recorded for the runner.
  const internal = JSON.parse(readFileSync(createNetwork(p, { name: 'inside', subnet: '10.80.0.0/24', ipMasq: true, internal: true, icc: false }), 'utf8'));
  t.deepEqual([internal.tscni, internal.plugins[0].ipMasq, internal.plugins[0].ipam.routes], [{ dns: true, internal: true, icc: false }, false, []]);
});

test('network create refuses bad names, bad subnets, long bridges, existing names and overlapping subnets', (t) => {
  const p = paths(t, false);
  mkdirSync(p.netconfDir, { recursive: true });
  writeFileSync(join(p.netconfDir, '10-red.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'red', plugins: [{ type: 'bridge', ipam: { type: 'host-local', subnet: '10.80.0.0/16' } }] }));
  const fails = (o: Parameters<typeof createNetwork>[1]) => {
    const e = t.throws(() => createNetwork(p, o));
    return [(e as unknown as { exitCode: number }).exitCode, e?.message];
  };
  t.deepEqual(fails({ name: '-x', subnet: '10.1.0.0/24', ipMasq: true }), [2, 'invalid network name "-x": letters, digits, _ . - only']);
  t.deepEqual(fails({ name: 'x', subnet: '10.1.0.0/40', ipMasq: true }), [2, 'invalid subnet "10.1.0.0/40": expected a CIDR like 10.43.0.0/24']);
  t.deepEqual(fails({ name: 'x', subnet: '10.1.0.0/24', bridge: 'a-bridge-name-too-long', ipMasq: true }), [2, 'invalid bridge name "a-bridge-name-too-long": at most 15 bytes']);
  t.deepEqual(fails({ name: 'red', subnet: '10.1.0.0/24', ipMasq: true }), [4, `network red already exists (${join(p.netconfDir, '10-red.conflist')})`]);
  t.deepEqual(fails({ name: 'x', subnet: '10.80.3.0/24', ipMasq: true }), [4, 'subnet 10.80.3.0/24 overlaps 10.80.0.0/16 of network red']);
  t.deepEqual(readdirSync(p.netconfDir), ['10-red.conflist']);
});

test('the bundled default network counts: its subnet cannot be taken again', (t) => {
  const p = paths(t, true);
  t.deepEqual(listNetworks(p).map((n) => [n.name, n.bridge, n.subnets, n.plugins]), [['tscni', 'tscni0', ['10.42.0.0/24'], ['bridge', 'portmap', 'loopback']]]);
  t.throws(() => createNetwork(p, { name: 'x', subnet: '10.42.0.0/16', ipMasq: true }), { message: 'subnet 10.42.0.0/16 overlaps 10.42.0.0/24 of network tscni' });
});
