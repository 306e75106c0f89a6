// host-local through the built executable, exactly as a runtime calls it: every verb, every spec version, bad input.

import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_VERSIONS, callPlugin, type CallResult } from '../helpers/plugin.ts';

const NETNS = '/proc/self/ns/net';
const BOOT = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

function tempDir(t: ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tscni-hl-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const net = (dataDir: string, ipam: object, extra: object = {}, version = '1.1.0') => ({
  cniVersion: version,
  name: 'hlnet',
  type: 'host-local',
  ipam: { type: 'host-local', dataDir, ...ipam },
  ...extra,
});

function call(command: string, conf: object, id = 'c1', ifname = 'eth0', args?: string): Promise<CallResult> {
  return callPlugin('host-local', { command, containerId: id, ifname, netns: NETNS, args }, conf);
}

const leases = (dataDir: string, name = 'hlnet') => JSON.parse(readFileSync(join(dataDir, name, 'leases.json'), 'utf8'));
/** The store's columns as {address: [id, ifname, time, boot index]}. */
const rows = (s: any): Record<string, [string, string, number, number]> => Object.fromEntries(s.a.map((a: string, k: number) => [a, [s.c[k], s.i[k], s.t[k], s.o[k]]]));
const leased = (dataDir: string) => Object.fromEntries(Object.entries(rows(leases(dataDir))).map(([ip, row]) => [ip, `${row[0]}/${row[1]}`]));

test('ADD result shape is exact for every spec version (dual stack, routes, dns)', async (t) => {
  const d = tempDir(t);
  const resolv = join(d, 'resolv.conf');
  writeFileSync(resolv, 'nameserver 10.53.0.1\ndomain example.test\nsearch a.test\noptions ndots:1\n');
  const ipam = { ranges: [[{ subnet: '10.10.0.0/24' }], [{ subnet: 'fd10::/64' }]], routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd10::fe' }], resolvConf: resolv };
  const dns = { nameservers: ['10.53.0.1'], domain: 'example.test', search: ['a.test'], options: ['ndots:1'] };
  let n = 2;
  for (const v of ALL_VERSIONS) {
    const r = await call('ADD', net(d, ipam, {}, v), `c-${v}`);
    t.is(r.code, 0, r.stdout);
    const a4 = `10.10.0.${n}/24`;
    const a6 = `fd10::${n}/64`;
    n++;
    if (v === '0.1.0' || v === '0.2.0') {
      t.deepEqual(r.json, {
        cniVersion: v,
        ip4: { ip: a4, gateway: '10.10.0.1', routes: [{ dst: '0.0.0.0/0' }] },
        ip6: { ip: a6, gateway: 'fd10::1', routes: [{ dst: '::/0', gw: 'fd10::fe' }] },
        dns,
      });
    } else {
      const withVersion = v.startsWith('0.');
      t.deepEqual(r.json, {
        cniVersion: v,
        ips: [
          { ...(withVersion ? { version: '4' } : {}), address: a4, gateway: '10.10.0.1' },
          { ...(withVersion ? { version: '6' } : {}), address: a6, gateway: 'fd10::1' },
        ],
        routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd10::fe' }],
        dns,
      });
    }
  }
});

test('without routes or resolvConf the result carries only ips', async (t) => {
  const d = tempDir(t);
  const r = await call('ADD', net(d, { subnet: '10.11.0.0/16' }));
  t.deepEqual(r.json, { cniVersion: '1.1.0', ips: [{ address: '10.11.0.2/16', gateway: '10.11.0.1' }] });
});

test('round robin: a released address is not reused before the walk wraps', async (t) => {
  const d = tempDir(t);
  const conf = net(d, { subnet: '10.12.0.0/29' });
  const got: string[] = [];
  for (const id of ['a', 'b']) got.push((await call('ADD', conf, id)).json.ips[0].address);
  t.is((await call('DEL', conf, 'a')).code, 0);
  for (const id of ['c', 'd', 'e', 'f']) got.push((await call('ADD', conf, id)).json.ips[0].address);
  t.deepEqual(got, ['10.12.0.2/29', '10.12.0.3/29', '10.12.0.4/29', '10.12.0.5/29', '10.12.0.6/29', '10.12.0.2/29']);
  t.is(leases(d).r['0'], '10.12.0.2');
});

test('store records container id, ifname, time and boot id per lease', async (t) => {
  const d = tempDir(t);
  const before = Math.floor(Date.now() / 1000);
  await call('ADD', net(d, { subnet: '10.13.0.0/24' }), 'ctr-1', 'net1');
  const s = leases(d);
  t.deepEqual(Object.keys(s).sort(), ['a', 'b', 'c', 'i', 'o', 'r', 't', 'v']);
  t.deepEqual(s.b, [BOOT]);
  const [id, ifname, time, boot] = rows(s)['10.13.0.2'];
  t.deepEqual([id, ifname, boot], ['ctr-1', 'net1', 0]);
  t.true(time >= before && time <= Math.floor(Date.now() / 1000));
  t.deepEqual(readdirSync(join(d, 'hlnet')).sort(), ['leases.json', 'lock']);
});

test('DEL releases exactly (id, ifname), twice is fine, unknown ids succeed', async (t) => {
  const d = tempDir(t);
  const conf = net(d, { subnet: '10.14.0.0/24' });
  await call('ADD', conf, 'c1', 'eth0');
  await call('ADD', conf, 'c1', 'eth1');
  await call('ADD', conf, 'c2', 'eth0');
  for (let i = 0; i < 2; i++) {
    const r = await call('DEL', conf, 'c1', 'eth0');
    t.deepEqual([r.code, r.stdout], [0, '']);
  }
  t.deepEqual(leased(d), { '10.14.0.3': 'c1/eth1', '10.14.0.4': 'c2/eth0' });
  const unknown = await call('DEL', conf, 'nobody', 'eth0');
  t.deepEqual([unknown.code, unknown.stdout], [0, '']);
  const fresh = await call('DEL', net(tempDir(t), { subnet: '10.14.0.0/24' }), 'x', 'eth0');
  t.deepEqual([fresh.code, fresh.stdout], [0, '']);
});

test('duplicate ADD for one attachment: the reference error, nothing changed', async (t) => {
  const d = tempDir(t);
  const conf = net(d, { subnet: '10.15.0.0/24' });
  await call('ADD', conf, 'c1');
  const r = await call('ADD', conf, 'c1');
  t.deepEqual(r.json, { cniVersion: '1.1.0', code: 999, msg: 'failed to allocate for range 0: 10.15.0.2 has been allocated to c1, duplicate allocation is not allowed' });
  t.deepEqual(leased(d), { '10.15.0.2': 'c1/eth0' });
});

test('requested addresses from CNI_ARGS IP, args.cni.ips and runtimeConfig.ips', async (t) => {
  const d = tempDir(t);
  const ipam = { ranges: [[{ subnet: '10.16.0.0/24' }], [{ subnet: 'fd16::/64' }]] };
  const r1 = await call('ADD', net(d, ipam), 'a', 'eth0', 'IP=10.16.0.50,fd16::50');
  t.deepEqual(r1.json.ips.map((i: any) => i.address), ['10.16.0.50/24', 'fd16::50/64']);
  const r2 = await call('ADD', net(d, ipam, { args: { cni: { ips: ['10.16.0.60'] } } }), 'b');
  t.deepEqual(r2.json.ips.map((i: any) => i.address), ['10.16.0.60/24', 'fd16::51/64']);
  const r3 = await call('ADD', net(d, ipam, { runtimeConfig: { ips: ['fd16::70/64'] } }), 'c');
  t.deepEqual(r3.json.ips.map((i: any) => i.address), ['10.16.0.61/24', 'fd16::70/64']);
  const taken = await call('ADD', net(d, ipam, { runtimeConfig: { ips: ['10.16.0.50'] } }), 'd');
  t.deepEqual([taken.json.code, taken.json.msg], [999, 'failed to allocate for range 0: requested IP address 10.16.0.50 is not available in range set 10.16.0.1-10.16.0.254']);
  const stray = await call('ADD', net(d, ipam), 'e', 'eth0', 'IP=10.99.0.5');
  t.deepEqual([stray.json.code, stray.json.msg], [7, 'failed to allocate all requested IPs: 10.99.0.5 (CNI_ARGS IP) lies in no range set (10.16.0.1-10.16.0.254; fd16::1-fd16::ffff:ffff:ffff:ffff)']);
  t.deepEqual(Object.keys(leased(d)).sort(), ['10.16.0.50', '10.16.0.60', '10.16.0.61', 'fd16::50', 'fd16::51', 'fd16::70']);
});

test('runtimeConfig.ipRanges is prepended to the configured ranges', async (t) => {
  const d = tempDir(t);
  const r = await call('ADD', net(d, { ranges: [[{ subnet: '10.17.0.0/24' }]] }, { runtimeConfig: { ipRanges: [[{ subnet: 'fd17::/64', gateway: 'fd17::fe' }]] } }));
  t.deepEqual(r.json.ips, [{ address: 'fd17::1/64', gateway: 'fd17::fe' }, { address: '10.17.0.2/24', gateway: '10.17.0.1' }]);
});

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
  t.false(existsSync(join(d, '..', 'x')));
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
