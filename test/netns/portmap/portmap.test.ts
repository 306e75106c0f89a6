// portmap against the real kernel, traffic paths: every path with real TCP/UDP servers and clients, hostIP, the
// localhost guard, the UDP conntrack flush. Containers are plain veths on a bridge (no tscni bridge plugin).

import test from 'ava';
import { requireRoot } from '../../helpers/netns.ts';
import { answer, GW4, GW6, HOST4, HOST6, makeBridgeHost, serve, tcp, udp } from '../../helpers/veth-container.ts';
import { added, call, elements, NET, NFT, owned, sysctl } from './fixture.ts';

test.serial('TCP and UDP, IPv4 and IPv6: from another host, the host itself, 127.0.0.1, the container and a neighbour', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  const c2 = fx.addContainer(12);
  await serve(t, c1.ns, 80, 'c1');
  const add = await added(t, fx, c1, [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostPort: 5353, containerPort: 80, protocol: 'udp' },
  ]);
  t.deepEqual(add.json, c1.prevResult, 'ADD returns prevResult unchanged');
  const v4 = answer('c1', c1.v4);
  const v6 = answer('c1', c1.v6);
  t.is(tcp(fx.outside, HOST4, 8080), v4, 'outside host, IPv4');
  t.is(tcp(fx.outside, HOST6, 8080), v6, 'outside host, IPv6');
  t.is(udp(fx.outside, HOST4, 5353), v4, 'outside host, UDP IPv4');
  t.is(udp(fx.outside, HOST6, 5353), v6, 'outside host, UDP IPv6');
  t.is(tcp(fx.host, HOST4, 8080), v4, 'the host through its own address');
  t.is(tcp(fx.host, GW6, 8080), v6, 'the host through its own IPv6 address');
  t.is(tcp(fx.host, '127.0.0.1', 8080), v4, 'the host through 127.0.0.1');
  t.is(udp(fx.host, '127.0.0.1', 5353), v4, 'the host through 127.0.0.1, UDP');
  t.is(tcp(c1.ns, GW4, 8080), v4, 'hairpin: the container through the bridge address');
  t.is(tcp(c1.ns, HOST4, 8080), v4, 'hairpin: the container through another host address');
  t.is(tcp(c1.ns, GW6, 8080), v6, 'hairpin IPv6');
  t.is(tcp(c2.ns, HOST4, 8080), v4, 'a neighbour on the same bridge');
  t.is(tcp(fx.outside, HOST4, 8081), '', 'an unpublished port is not forwarded');
  // route_localnet only on the interface toward the container, never `all` or the outside interface.
  t.is(sysctl(fx.host, 'net/ipv4/conf/br0/route_localnet'), '1');
  t.is(sysctl(fx.host, 'net/ipv4/conf/all/route_localnet'), '0');
  t.is(sysctl(fx.host, 'net/ipv4/conf/vo/route_localnet'), '0');
  const el = elements(fx.host);
  const who = 'pmnet ctr-11 eth0';
  t.deepEqual(el.addr4_any, [owned({ concat: ['tcp', 8080] }, '10.88.0.11', who), owned({ concat: ['udp', 5353] }, '10.88.0.11', who)]);
  t.deepEqual(el.addr6_any, [owned({ concat: ['tcp', 8080] }, 'fd88::11', who), owned({ concat: ['udp', 5353] }, 'fd88::11', who)]);
  t.deepEqual(el.port4_any, [owned({ concat: ['tcp', 8080] }, 80, who), owned({ concat: ['udp', 5353] }, 80, who)]);
});

test.serial('snat false: no hairpin or localhost masquerade elements; masqAll masquerades any source', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  const c2 = fx.addContainer(12);
  await serve(t, c1.ns, 80, 'c1');
  await added(t, fx, c1, [{ hostPort: 8080, containerPort: 80 }], { snat: false });
  t.deepEqual([elements(fx.host).hairpin4, elements(fx.host).local4], [[], []], 'no hairpin or localhost masquerade for the subnet');
  t.is(tcp(fx.outside, HOST4, 8080), answer('c1', c1.v4), 'plain DNAT still works');
  t.is(tcp(c1.ns, GW4, 8080), '', 'hairpin needs snat');
  await serve(t, c2.ns, 80, 'c2');
  await added(t, fx, c2, [{ hostPort: 9090, containerPort: 80 }], { masqAll: true });
  t.deepEqual(elements(fx.host).all4, [{ elem: { val: '10.88.0.12', comment: 'pmnet ctr-12 eth0' } }]);
  t.deepEqual(elements(fx.host).all6, [{ elem: { val: 'fd88::12', comment: 'pmnet ctr-12 eth0' } }]);
  t.is(tcp(fx.outside, HOST4, 9090), answer('c2', c2.v4));
  t.is(tcp(c2.ns, GW4, 9090), answer('c2', c2.v4), 'masqAll covers hairpin too');
});

test.serial('a port published on 127.0.0.1 is not reachable from another host or a neighbour on the bridge', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  const attacker = fx.addContainer(13, { v6: false });
  await serve(t, c1.ns, 80, 'c1');
  await added(t, fx, c1, [{ hostPort: 8080, containerPort: 80, hostIP: '127.0.0.1' }]);
  t.is(tcp(fx.host, '127.0.0.1', 8080), answer('c1', c1.v4), 'the host itself reaches it');
  t.is(tcp(fx.outside, HOST4, 8080), '', 'not published on the other addresses');
  // The attacker routes 127.0.0.1 to the host over the bridge, where route_localnet=1 (the CVE-2025-54388 shape).
  attacker.ns.run(['ip', 'addr', 'del', '127.0.0.1/8', 'dev', 'lo']);
  attacker.ns.run(['sysctl', '-qw', 'net.ipv4.conf.eth0.route_localnet=1']);
  attacker.ns.run(['ip', 'route', 'add', '127.0.0.1/32', 'via', GW4, 'dev', 'eth0']);
  fx.outside.run(['ip', 'addr', 'del', '127.0.0.1/8', 'dev', 'lo']);
  fx.outside.run(['sysctl', '-qw', 'net.ipv4.conf.eth0.route_localnet=1']);
  fx.outside.run(['ip', 'route', 'add', '127.0.0.1/32', 'via', HOST4, 'dev', 'eth0']);
  fx.host.run(['sysctl', '-qw', 'net.ipv4.conf.vo.route_localnet=1']); // even if an admin turns it on there
  t.is(tcp(attacker.ns, '127.0.0.1', 8080), '', 'neighbour on the bridge is refused');
  t.is(tcp(fx.outside, '127.0.0.1', 8080), '', 'another host is refused');
  const guard = JSON.parse(fx.host.run([NFT, '-j', '-a', 'list', 'chain', 'inet', 'tscni_portmap', 'guard'])).nftables.filter((o: any) => o.rule);
  const v4guard = guard.find((o: any) => JSON.stringify(o.rule.expr.slice(1)) === JSON.stringify([
    { match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: { prefix: { addr: '127.0.0.0', len: 8 } } } }, { drop: null },
  ]));
  t.is(typeof v4guard?.rule.handle, 'number', 'the guard drops 127.0.0.0/8');
  const handle = String(v4guard.rule.handle);
  // Control: without the guard rule the same packets do get through, so the refusal above is the guard's doing.
  fx.host.run([NFT, 'delete', 'rule', 'inet', 'tscni_portmap', 'guard', 'handle', handle!]);
  t.is(tcp(attacker.ns, '127.0.0.1', 8080), answer('c1', c1.v4), 'control: the guard is what refuses it');
});

test.serial('hostIP binds one address, 0.0.0.0 and :: mean all of a family, and the other family is skipped', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  await serve(t, c1.ns, 80, 'c1');
  await added(t, fx, c1, [
    { hostPort: 8081, containerPort: 80, hostIP: HOST4 },
    { hostPort: 8082, containerPort: 80, hostIP: '0.0.0.0' },
    { hostPort: 8083, containerPort: 80, hostIP: '::' },
    { hostPort: 8084, containerPort: 80, hostIP: HOST6 },
  ]);
  t.is(tcp(fx.outside, HOST4, 8081), answer('c1', c1.v4));
  t.is(tcp(fx.host, GW4, 8081), '', 'another host address is not bound');
  t.is(tcp(fx.outside, HOST6, 8081), '', 'an IPv4 hostIP publishes nothing on IPv6');
  t.is(tcp(fx.outside, HOST4, 8082), answer('c1', c1.v4));
  t.is(tcp(fx.outside, HOST6, 8082), '', '0.0.0.0 is IPv4 only');
  t.is(tcp(fx.outside, HOST6, 8083), answer('c1', c1.v6));
  t.is(tcp(fx.outside, HOST4, 8083), '', ':: is IPv6 only');
  t.is(tcp(fx.outside, HOST6, 8084), answer('c1', c1.v6));
  t.is(tcp(fx.host, GW6, 8084), '');
  const el = elements(fx.host);
  t.deepEqual(el.addr4, [owned({ concat: [HOST4, 'tcp', 8081] }, '10.88.0.11', 'pmnet ctr-11 eth0')]);
  t.deepEqual(el.addr6, [owned({ concat: [HOST6, 'tcp', 8084] }, 'fd88::11', 'pmnet ctr-11 eth0')]);
});
test.serial('UDP conntrack entries of a newly published host port are flushed, so an old flow follows the new container', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c1 = fx.addContainer(11);
  const c2 = fx.addContainer(12);
  await serve(t, c1.ns, 53, 'c1');
  await serve(t, c2.ns, 53, 'c2');
  const m = [{ hostPort: 5353, containerPort: 53, protocol: 'udp' }];
  await added(t, fx, c1, m);
  t.is(udp(fx.outside, HOST4, 5353, 40000), answer('c1', c1.v4));
  t.regex(fx.host.run(['conntrack', '-L', '-p', 'udp', '--orig-port-dst', '5353']), /dport=5353 .*src=10\.88\.0\.11/);
  t.is((await call(fx, 'DEL', c1, { cniVersion: '1.1.0', name: NET, type: 'portmap' })).code, 0);
  await added(t, fx, c2, m);
  t.is(udp(fx.outside, HOST4, 5353, 40000), answer('c2', c2.v4), 'the same 5-tuple now reaches the new container');
});
