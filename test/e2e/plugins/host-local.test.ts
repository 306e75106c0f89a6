// host-local through the built executable, exactly as a runtime calls it: ADD's result, the store, DEL, requests.

import test from 'ava';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_VERSIONS } from '../../helpers/plugin.ts';
import { BOOT, call, leased, leases, net, rows, tempDir } from '../../helpers/host-local.ts';

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
