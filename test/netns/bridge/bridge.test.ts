// bridge against the real kernel: ADD/CHECK/DEL at every spec version, connectivity through the gateway, between
// containers and to an outside host with the source masqueraded, IPv6 and dual stack, L2 only (per-port settings:
// bridge-port.test.ts).

import test from 'ava';
import { ALL_VERSIONS } from '../../helpers/plugin.ts';
import { ipJson, makeNetns, requireRoot } from '../../helpers/netns.ts';
import { atLeast } from '../../../lib/cni/version.ts';
import { addrsOf, askPeer, leases, makeFixture, makeOutside, nftElements, peerEchoServer, vethsIn, NFT } from './fixture.ts';

const linkOf = (ns: ReturnType<typeof makeNetns>, dev: string) => ipJson<any[]>(ns, ['-d', 'link', 'show', 'dev', dev])[0];

for (const v of ALL_VERSIONS) {
  test.serial(`ADD/CHECK/DEL at ${v}: result shape, kernel state, nft elements, nothing left`, async (t) => {
    if (!requireRoot(t)) return;
    const fx = makeFixture(t);
    const ctr = makeNetns(t, 'c');
    const conf = fx.conf(v);
    const add = await fx.call('ADD', ctr, 'eth0', conf);
    t.is(add.code, 0, add.stdout + add.stderr);
    const [hostVeth] = vethsIn(fx.host);
    t.regex(hostVeth, /^veth[0-9a-f]{8}$/);
    const br = linkOf(fx.host, 'tbr0');
    const veth = linkOf(fx.host, hostVeth);
    const eth0 = linkOf(ctr, 'eth0');
    t.is(veth.master, 'tbr0');
    t.is(veth.ifalias, 'tscni tnet c1/eth0');
    t.is(br.linkinfo.info_kind, 'bridge');
    t.is(eth0.linkinfo.info_kind, 'veth');
    t.deepEqual(addrsOf(ctr, 'eth0'), ['10.77.0.2/24']);
    t.deepEqual(addrsOf(fx.host, 'tbr0'), ['10.77.0.1/24']);
    t.is(ctr.run(['cat', '/proc/sys/net/ipv4/conf/eth0/arp_notify']).trim(), '1');
    t.is(ctr.run(['cat', '/proc/sys/net/ipv6/conf/eth0/accept_dad']).trim(), '0');
    t.is(fx.host.run(['cat', '/proc/sys/net/ipv4/ip_forward']).trim(), '1');
    t.is(fx.host.run(['cat', '/proc/sys/net/ipv6/conf/tbr0/accept_ra']).trim(), '0');
    const ip = { ...(atLeast(v, '1.0.0') ? {} : { version: '4' }), interface: 2, address: '10.77.0.2/24', gateway: '10.77.0.1' };
    const expected = atLeast(v, '0.3.0')
      ? {
          cniVersion: v,
          interfaces: [
            { name: 'tbr0', mac: br.address },
            { name: hostVeth, mac: veth.address },
            { name: 'eth0', mac: eth0.address, sandbox: ctr.path },
          ],
          ips: [ip],
        }
      : { cniVersion: v, ip4: { ip: '10.77.0.2/24', gateway: '10.77.0.1' } };
    t.deepEqual(add.json, expected);
    t.deepEqual(nftElements(fx.host), [
      { family: 'inet', set: 'masq4', val: '10.77.0.2', comment: 'tscni tnet c1/eth0' },
      { family: 'inet', set: 'local4', val: { concat: ['10.77.0.2', { prefix: { addr: '10.77.0.0', len: 24 } }] }, comment: 'tscni tnet c1/eth0' },
    ]);
    t.deepEqual(leases(fx.dataDir), ['10.77.0.2']);
    if (atLeast(v, '0.4.0')) {
      const chk = await fx.call('CHECK', ctr, 'eth0', { ...conf, prevResult: add.json });
      t.is(chk.code, 0, chk.stdout + chk.stderr);
    }
    const del = await fx.call('DEL', ctr, 'eth0', { ...conf, prevResult: add.json });
    t.is(del.code, 0, del.stdout + del.stderr);
    t.is(del.stdout, '');
    t.deepEqual(vethsIn(fx.host), []);
    t.deepEqual(ipJson<any[]>(ctr, ['link', 'show', 'type', 'veth']), []);
    t.deepEqual(nftElements(fx.host), []);
    t.deepEqual(leases(fx.dataDir), []);
    t.truthy(linkOf(fx.host, 'tbr0'), 'DEL never deletes the bridge');
    const again = await fx.call('DEL', ctr, 'eth0', conf);
    t.is(again.code, 0, `DEL twice: ${again.stdout}`);
  });
}

test.serial('connectivity: container→gateway, container→container, container→outside host masqueraded', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const out = makeOutside(t, fx.host);
  const conf = fx.conf('1.1.0', { isDefaultGateway: true });
  const c1 = makeNetns(t, 'c');
  const c2 = makeNetns(t, 'c');
  const a1 = await fx.call('ADD', c1, 'eth0', conf, { id: 'c1' });
  const a2 = await fx.call('ADD', c2, 'eth0', conf, { id: 'c2' });
  t.is(a1.code, 0, a1.stdout);
  t.is(a2.code, 0, a2.stdout);
  t.deepEqual(a1.json.routes, [{ dst: '0.0.0.0/0', gw: '10.77.0.1' }]);
  t.deepEqual(ipJson<any[]>(c1, ['route', 'show', 'default']).map((r) => [r.dst, r.gateway, r.dev]), [['default', '10.77.0.1', 'eth0']]);
  t.is(c1.try(['ping', '-c1', '-W2', '10.77.0.1']).status, 0, 'container → gateway');
  t.is(c1.try(['ping', '-c1', '-W2', '10.77.0.3']).status, 0, 'container → container');
  t.is(c2.try(['ping', '-c1', '-W2', '10.77.0.2']).status, 0, 'container → container, back');
  const stop = peerEchoServer(out, 8080);
  t.teardown(stop);
  t.is(await askPeer(c1, '198.51.100.2', 8080), '198.51.100.1', 'the outside host sees the host address, not 10.77.0.2');
  t.is(await askPeer(c2, '198.51.100.2', 8080), '198.51.100.1');
  // Without the masquerade element the outside host has no route back: the same connection now fails.
  fx.host.run([NFT, 'delete', 'element', 'inet', 'tscni_bridge', 'masq4', '{ 10.77.0.2 }']);
  t.regex(await askPeer(c1, '198.51.100.2', 8080, 1), /^no answer/);
  stop();
  for (const [ns, id, res] of [[c1, 'c1', a1], [c2, 'c2', a2]] as const) {
    const d = await fx.call('DEL', ns, 'eth0', { ...conf, prevResult: res.json }, { id });
    t.is(d.code, 0, d.stdout);
  }
  t.deepEqual(nftElements(fx.host), []);
  t.deepEqual(vethsIn(fx.host).filter((n) => n.startsWith('veth')), []);
});

test.serial('IPv6 and dual stack: addresses without DAD, gateways on the bridge, masq6 elements, CHECK, DEL', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t, { ranges: [[{ subnet: '10.78.0.0/24' }], [{ subnet: 'fd00:78::/64' }]] });
  const out = makeOutside(t, fx.host);
  out.run(['ip', 'addr', 'add', 'fd00:51::2/64', 'dev', 'xo1', 'nodad']);
  fx.host.run(['ip', 'addr', 'add', 'fd00:51::1/64', 'dev', 'xo0', 'nodad']);
  const ctr = makeNetns(t, 'c');
  const conf = fx.conf('1.0.0', { isDefaultGateway: true });
  const add = await fx.call('ADD', ctr, 'eth0', conf);
  t.is(add.code, 0, add.stdout + add.stderr);
  t.deepEqual(add.json.ips, [
    { interface: 2, address: '10.78.0.2/24', gateway: '10.78.0.1' },
    { interface: 2, address: 'fd00:78::2/64', gateway: 'fd00:78::1' },
  ]);
  t.deepEqual(add.json.routes, [{ dst: '0.0.0.0/0', gw: '10.78.0.1' }, { dst: '::/0', gw: 'fd00:78::1' }]);
  const v6 = ipJson<any[]>(ctr, ['-6', 'addr', 'show', 'dev', 'eth0'])[0].addr_info.find((a: any) => a.local === 'fd00:78::2');
  t.truthy(v6, 'IPv6 address present');
  t.falsy(v6.tentative, 'no DAD wait: the address is usable at once');
  t.true(v6.nodad, 'added with IFA_F_NODAD');
  t.deepEqual(addrsOf(fx.host, 'tbr0'), ['10.78.0.1/24', 'fd00:78::1/64']);
  t.is(fx.host.run(['cat', '/proc/sys/net/ipv6/conf/all/forwarding']).trim(), '1');
  t.deepEqual(nftElements(fx.host).map((e) => [e.set, e.val]), [
    ['masq4', '10.78.0.2'],
    ['masq6', 'fd00:78::2'],
    ['local4', { concat: ['10.78.0.2', { prefix: { addr: '10.78.0.0', len: 24 } }] }],
    ['local6', { concat: ['fd00:78::2', { prefix: { addr: 'fd00:78::', len: 64 } }] }],
  ]);
  t.is(ctr.try(['ping', '-6', '-c1', '-W2', 'fd00:78::1']).status, 0, 'container → v6 gateway');
  const stop = peerEchoServer(out, 8081, true);
  t.teardown(stop);
  t.is(await askPeer(ctr, '[fd00:51::2]', 8081), '[fd00:0051:0000:0000:0000:0000:0000:0001]', 'IPv6 masqueraded to the host address');
  stop();
  const chk = await fx.call('CHECK', ctr, 'eth0', { ...conf, prevResult: add.json });
  t.is(chk.code, 0, chk.stdout);
  const del = await fx.call('DEL', ctr, 'eth0', { ...conf, prevResult: add.json });
  t.is(del.code, 0, del.stdout);
  t.deepEqual(nftElements(fx.host), []);
  t.deepEqual(leases(fx.dataDir), []);
});

test.serial('L2 only: no IPAM, container iface up, CHECK works, no nft, disableContainerInterface leaves it down', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  const conf = { cniVersion: '1.1.0', name: 'l2net', type: 'bridge', bridge: 'tbr1', ipMasq: true };
  const add = await fx.call('ADD', ctr, 'eth0', conf);
  t.is(add.code, 0, add.stdout);
  t.is(add.json.interfaces.length, 3);
  t.is(add.json.ips, undefined);
  t.true(linkOf(ctr, 'eth0').flags.includes('UP'));
  t.deepEqual(addrsOf(ctr, 'eth0'), []);
  t.deepEqual(nftElements(fx.host), []);
  const chk = await fx.call('CHECK', ctr, 'eth0', { ...conf, prevResult: add.json });
  t.is(chk.code, 0, chk.stdout);
  fx.host.run(['ip', 'link', 'set', add.json.interfaces[1].name, 'nomaster']);
  const bad = await fx.call('CHECK', ctr, 'eth0', { ...conf, prevResult: add.json });
  t.deepEqual(bad.json, { cniVersion: '1.1.0', code: 999, msg: `host veth ${add.json.interfaces[1].name} is not enslaved to bridge tbr1` });
  t.is((await fx.call('DEL', ctr, 'eth0', conf)).code, 0);

  const c2 = makeNetns(t, 'c');
  const off = await fx.call('ADD', c2, 'eth0', { ...conf, disableContainerInterface: true }, { id: 'c2' });
  t.is(off.code, 0, off.stdout);
  t.false(linkOf(c2, 'eth0').flags.includes('UP'));
  t.is((await fx.call('DEL', c2, 'eth0', conf, { id: 'c2' })).code, 0);
  t.deepEqual(vethsIn(fx.host), []);
});
