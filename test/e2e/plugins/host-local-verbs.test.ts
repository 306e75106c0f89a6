// host-local through the built executable: CHECK, GC, STATUS, exhaustion, earlier boots, bad input, every spec
// version, the dry run.

import test from 'ava';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_VERSIONS, callPlugin } from '../../helpers/plugin.ts';
import { BOOT, NETNS, call, leased, leases, net, rows, tempDir } from '../../helpers/host-local.ts';

test('CHECK: the very prevResult addresses must be leased to the attachment', async (t) => {
  const d = tempDir(t);
  const conf = net(d, { subnet: '10.18.0.0/24' });
  const add = await call('ADD', conf, 'c1');
  await call('ADD', conf, 'c2');
  const ok = await call('CHECK', { ...conf, prevResult: add.json }, 'c1');
  t.deepEqual([ok.code, ok.stdout], [0, '']);
  const other = await call('CHECK', { ...conf, prevResult: { cniVersion: '1.1.0', ips: [{ address: '10.18.0.3/24' }] } }, 'c1');
  t.deepEqual(other.json, {
    cniVersion: '1.1.0',
    code: 999,
    msg: 'host-local: prevResult address 10.18.0.3/24 is not leased to container c1 ifname eth0 in network hlnet: it is leased to container c2 ifname eth0',
  });
  await call('DEL', conf, 'c1');
  const gone = await call('CHECK', { ...conf, prevResult: add.json }, 'c1');
  t.deepEqual([gone.code, gone.json.code, gone.json.msg], [1, 999, 'host-local: failed to find any address leased to container c1 ifname eth0 in network hlnet']);
});

test('GC releases every lease not in cni.dev/valid-attachments (and the old cni.dev/attachments)', async (t) => {
  const d = tempDir(t);
  const conf = net(d, { subnet: '10.19.0.0/24' });
  for (const id of ['a', 'b', 'c', 'd']) await call('ADD', conf, id);
  const gc = await callPlugin('host-local', { command: 'GC' }, { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'b', ifname: 'eth0' }, { containerID: 'c', ifname: 'eth0' }, { containerID: 'a', ifname: 'eth9' }] });
  t.deepEqual([gc.code, gc.stdout], [0, '']);
  t.deepEqual(leased(d), { '10.19.0.3': 'b/eth0', '10.19.0.4': 'c/eth0' });
  const old = await callPlugin('host-local', { command: 'GC' }, { ...conf, 'cni.dev/attachments': [{ containerID: 'c', ifname: 'eth0' }] });
  t.is(old.code, 0);
  t.deepEqual(leased(d), { '10.19.0.4': 'c/eth0' });
  const missing = await callPlugin('host-local', { command: 'GC' }, conf);
  t.deepEqual([missing.json.code, missing.json.msg], [7, 'invalid cni.dev/attachments null: GC needs the list of valid attachments [{containerID, ifname}]']);
  t.deepEqual(leased(d), { '10.19.0.4': 'c/eth0' });
});

test('exhaustion: code 11 naming the ranges; STATUS 50 while full, 0 again after DEL', async (t) => {
  const d = tempDir(t);
  const conf = net(d, { ranges: [[{ subnet: '10.20.0.0/30' }, { subnet: '10.20.1.0/30' }], [{ subnet: 'fd20::/64' }]] });
  const st0 = await callPlugin('host-local', { command: 'STATUS' }, conf);
  t.deepEqual([st0.code, st0.stdout], [0, '']);
  t.is((await call('ADD', conf, 'a')).code, 0);
  t.is((await call('ADD', conf, 'b')).code, 0);
  const full = await call('ADD', conf, 'c');
  t.deepEqual(full.json, { cniVersion: '1.1.0', code: 11, msg: 'failed to allocate for range 0: no IP addresses available in range set: 10.20.0.1-10.20.0.2,10.20.1.1-10.20.1.2' });
  t.deepEqual(Object.keys(leased(d)).sort(), ['10.20.0.2', '10.20.1.2', 'fd20::2', 'fd20::3'], 'the failed ADD took nothing');
  const st = await callPlugin('host-local', { command: 'STATUS' }, conf);
  t.deepEqual(st.json, { cniVersion: '1.1.0', code: 50, msg: 'no IP addresses available in range set 0: 10.20.0.1-10.20.0.2,10.20.1.1-10.20.1.2' });
  await call('DEL', conf, 'a');
  t.is((await callPlugin('host-local', { command: 'STATUS' }, conf)).code, 0);
});

test('leases from an earlier boot are reclaimed: a pool full of them still serves ADD', async (t) => {
  const d = tempDir(t);
  const conf = net(d, { subnet: '10.21.0.0/29' });
  mkdirSync(join(d, 'hlnet'));
  const old = '00000000-1111-2222-3333-444444444444';
  const a = ['10.21.0.2', '10.21.0.3', '10.21.0.4', '10.21.0.5', '10.21.0.6'];
  const c = ['old2', 'old3', 'old4', 'alive', 'old6'];
  const store = { v: 1, b: [old, BOOT], a, c, i: a.map(() => 'eth0'), t: [1600000000, 1600000000, 1600000000, 1700000000, 1600000000], o: [0, 0, 0, 1, 0], r: { '0': '10.21.0.4' } };
  writeFileSync(join(d, 'hlnet', 'leases.json'), JSON.stringify(store));
  t.is((await callPlugin('host-local', { command: 'STATUS' }, conf)).code, 0, 'earlier-boot leases count as free');
  const r = await call('ADD', conf, 'new');
  t.is(r.json.ips[0].address, '10.21.0.6/29', 'round robin goes on after the last reserved address, skipping the live lease');
  const s = leases(d);
  t.deepEqual(s.b, [BOOT]);
  const now = rows(s)['10.21.0.6']?.[2];
  t.true(now >= Math.floor(Date.now() / 1000) - 60);
  t.deepEqual(rows(s), { '10.21.0.5': ['alive', 'eth0', 1700000000, 0], '10.21.0.6': ['new', 'eth0', now, 0] });
});

test('bad input gets the right code naming field and value, and writes nothing', async (t) => {
  const d = tempDir(t);
  // The network name "../x" would name <dataDir>/../x: whatever was there before must be exactly as it was.
  const escapeBefore = existsSync(join(d, '..', 'x'));
  const rows: [string, object, number, string][] = [
    ['ranges overlapping', net(d, { ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.0.0.128/25' }]] }), 7, 'invalid range set 1 "10.0.0.129-10.0.0.254": overlaps range set 0 (10.0.0.1-10.0.0.254)'],
    ['subnet /31', net(d, { subnet: '10.0.0.0/31' }), 7, 'invalid ipam.subnet "10.0.0.0/31": network too small to allocate from (needs at least 2 host bits, at most /30)'],
    ['rangeStart outside the subnet', net(d, { ranges: [[{ subnet: '10.0.0.0/24', rangeStart: '10.0.1.1' }]] }), 7, 'invalid ipam.ranges[0][0].rangeStart "10.0.1.1": not in network 10.0.0.0/24'],
    ['gateway as requested IP', net(d, { subnet: '10.0.0.0/24', gateway: '10.0.0.9' }, { runtimeConfig: { ips: ['10.0.0.9'] } }), 7, 'invalid runtimeConfig.ips[0] "10.0.0.9": is the gateway of range 10.0.0.1-10.0.0.254; it is never handed out'],
    ['network name ../x', { ...net(d, { subnet: '10.0.0.0/24' }), name: '../x' }, 7, 'invalid name "../x": a network name must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$'],
    ['network name a/b', { ...net(d, { subnet: '10.0.0.0/24' }), name: 'a/b' }, 7, 'invalid name "a/b": a network name must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$'],
    // Issue 16: subnets that cannot serve a container, gateways that are no host, a name too long, a mistyped version.
    ['subnet 0.0.0.0/0', net(d, { subnet: '0.0.0.0/0' }), 7, 'invalid ipam.subnet "0.0.0.0/0": covers 0.0.0.0/8 ("this network"); a container subnet must be routable unicast'],
    ['subnet ::/0', net(d, { ranges: [[{ subnet: '::/0' }]] }), 7, 'invalid ipam.ranges[0][0].subnet "::/0": covers ::/128 (the unspecified address); a container subnet must be routable unicast'],
    ['loopback subnet', net(d, { subnet: '127.0.0.0/8' }), 7, 'invalid ipam.subnet "127.0.0.0/8": is inside 127.0.0.0/8 (loopback); a container subnet must be routable unicast'],
    ['subnet /32', net(d, { subnet: '10.0.0.7/32' }), 7, 'invalid ipam.subnet "10.0.0.7/32": network too small to allocate from (needs at least 2 host bits, at most /30)'],
    ['gateway = network address', net(d, { subnet: '10.0.0.0/24', gateway: '10.0.0.0' }), 7, 'invalid ipam.gateway "10.0.0.0": is the network address of 10.0.0.0/24'],
    ['gateway = broadcast', net(d, { subnet: '10.0.0.0/24', gateway: '10.0.0.255' }), 7, 'invalid ipam.gateway "10.0.0.255": is the broadcast address of 10.0.0.0/24'],
    ['gateway outside', net(d, { ranges: [[{ subnet: '10.0.0.0/24', gateway: '192.168.0.1' }]] }), 7, 'invalid ipam.ranges[0][0].gateway "192.168.0.1": not in network 10.0.0.0/24'],
    ['network name of 300 characters', { ...net(d, { subnet: '10.0.0.0/24' }), name: 'n'.repeat(300) }, 7,
      `invalid name "${'n'.repeat(300)}": a network name is at most 128 characters (it names the directory <dataDir>/<name> and result cache files), this one is 300`],
    ['cniVersion a number', { ...net(d, { subnet: '10.0.0.0/24' }), cniVersion: 1 }, 1, 'invalid cniVersion 1: must be a version string, one of 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0'],
    ['ipam.dataDir a number', net(d, { subnet: '10.0.0.0/24', dataDir: 5 }), 7, 'invalid ipam.dataDir 5: must be an absolute path'],
    ['two IPv4 sets at 0.2.0', net(d, { ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.1.0.0/24' }]] }, {}, '0.2.0'), 1, 'CNI version 0.2.0 does not support more than 1 address per family (2 IPv4 and 0 IPv6 range sets); use 0.3.0 or later'],
  ];
  for (const [what, conf, code, msg] of rows) {
    const r = await call('ADD', conf);
    t.is(r.code, 1, what);
    t.deepEqual([r.json.code, r.json.msg], [code, msg], what);
  }
  t.deepEqual(readdirSync(d), [], 'nothing was written');
  t.is(existsSync(join(d, '..', 'x')), escapeBefore);
});

test('dataDir that is a file: code 5 and no partial state', async (t) => {
  const d = tempDir(t);
  const file = join(d, 'file');
  writeFileSync(file, 'keep');
  for (const dataDir of [file, join(file, 'sub')]) {
    const r = await call('ADD', net(dataDir, { subnet: '10.0.0.0/24' }));
    t.is(r.json.code, 5, r.stdout);
    t.regex(r.json.msg, new RegExp(`ipam.dataDir "${dataDir}"`));
  }
  t.deepEqual(readdirSync(d), ['file']);
  t.is(readFileSync(file, 'utf8'), 'keep');
  t.is((await call('DEL', net(file, { subnet: '10.0.0.0/24' }))).code, 0, 'DEL forgives');
});

test('every spec version: ADD, CHECK (0.4.0+), DEL twice; GC and STATUS need 1.1.0 (code 1 below)', async (t) => {
  const d = tempDir(t);
  for (const v of ALL_VERSIONS) {
    const conf = net(d, { subnet: '10.22.0.0/24' }, {}, v);
    const add = await call('ADD', conf, `v${v}`);
    t.is(add.code, 0, `${v}: ${add.stdout}`);
    const address = v < '0.3.0' ? add.json.ip4.ip : add.json.ips[0].address;
    t.regex(address, /^10\.22\.0\.\d+\/24$/);
    if (v >= '0.4.0') {
      const check = await call('CHECK', { ...conf, prevResult: add.json }, `v${v}`);
      t.deepEqual([check.code, check.stdout], [0, ''], v);
    }
    for (let i = 0; i < 2; i++) t.deepEqual((await call('DEL', { ...conf, prevResult: add.json }, `v${v}`)).code, 0, v);
    const gc = await callPlugin('host-local', { command: 'GC' }, { ...conf, 'cni.dev/valid-attachments': [] });
    const st = await callPlugin('host-local', { command: 'STATUS' }, conf);
    t.deepEqual([gc.code, gc.json?.code, st.code, st.json?.code], v === '1.1.0' ? [0, undefined, 0, undefined] : [1, 1, 1, 1], v);
  }
  t.deepEqual(leased(d), {});
});

test('TSCNI_DRY_RUN=1 ADD and DEL print the plan and write nothing', async (t) => {
  const d = tempDir(t);
  const conf = net(d, { subnet: '10.23.0.0/24' });
  await call('ADD', conf, 'held');
  const before = readFileSync(join(d, 'hlnet', 'leases.json'), 'utf8');
  const dry = (command: string, id: string) =>
    callPlugin('host-local', { command, containerId: id, ifname: 'eth0', netns: NETNS, extra: { TSCNI_DRY_RUN: '1' } }, conf);
  const add = await dry('ADD', 'new');
  t.deepEqual(add.json.plan, {
    store: join(d, 'hlnet', 'leases.json'),
    lock: join(d, 'hlnet', 'lock'),
    reclaimEarlierBootLeases: 0,
    lease: [{ rangeSet: 0, address: '10.23.0.3/24', gateway: '10.23.0.1' }],
  });
  const del = await dry('DEL', 'held');
  t.deepEqual(del.json.plan.release, ['10.23.0.2']);
  t.is(readFileSync(join(d, 'hlnet', 'leases.json'), 'utf8'), before);
});
