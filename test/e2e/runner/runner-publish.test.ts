// Publishing like docker: -p 80 and -p 127.0.0.1::80 pick free host ports from 32768-60999, a host range for one
// port picks inside it (skipping a port a host process listens on), `tscni port`, -P from the image's ExposedPorts,
// IPv6 host addresses ([::1] through the userland proxy, [::] through portmap) and portmap's answer to ::1.

import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ociArchive, PAGE as OCI_PAGE } from '../../helpers/busybox-tar.ts';
import { makeNetns, requireRoot, wireVeth } from '../../helpers/netns.ts';
import { makeRunnerEnv, testNetwork, writeConf, type RunnerEnv, ok, curlUntil } from './harness.ts';

const PAGE = '<!doctype html>\n<title>tscni</title>\n<h1>Hello from busybox httpd in a tscni container</h1>\n';

const HTTPD = ['busybox', 'httpd', '-f', '-p', '80', '-h', '/www'];

/**
 * A runner env with a dual-stack network (10.99.N0.0/24 + fd99:N0::/64), an IPv4-only one (10.99.N1.0/24), and
 * another host: a peer netns on a link with the test host (10.99.N2.1-2, fd99:N2::1-2).
 */
function dualStackWithPeer(t: ExecutionContext, role: string, o: { dual: string; v4: string; bridge: string; n: [number, number, number] }) {
  const r = makeRunnerEnv(t, role);
  const [n0, n1, n2] = o.n;
  const net = testNetwork(r, o.dual, `${o.bridge}6`, `10.99.${n0}.0/24`) as any;
  net.plugins[0].ipam.ranges.push([{ subnet: `fd99:${n0}::/64` }]);
  net.plugins[0].ipam.routes.push({ dst: '::/0' });
  writeConf(r, `10-${o.dual}.conflist`, net);
  writeConf(r, `11-${o.v4}.conflist`, testNetwork(r, o.v4, `${o.bridge}4`, `10.99.${n1}.0/24`));
  const peer = makeNetns(t, `${role}peer`);
  for (const ns of [r.host, peer]) ns.run(['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
  wireVeth(r.host, `${o.bridge}p`, `fd99:${n2}::1/64`, peer, 'eth0', `fd99:${n2}::2/64`);
  r.host.run(['ip', 'addr', 'add', `10.99.${n2}.1/24`, 'dev', `${o.bridge}p`]);
  peer.run(['ip', 'addr', 'add', `10.99.${n2}.2/24`, 'dev', 'eth0']);
  return { r, peer };
}

test.serial('-p 80 and -p 127.0.0.1::80 pick 32768 and 32769; a host range skips held ports; tscni port; rm gives them back', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'pp');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnitpp', '10.99.71.0/24'));
  await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'web', '-p', '80', '-p', '127.0.0.1::80', ...HTTPD]);
  t.is((await ok(t, r, ['port', 'web'])).stdout, '80/tcp -> 0.0.0.0:32768\n80/tcp -> 127.0.0.1:32769\n');
  t.is((await ok(t, r, ['port', 'web', '80/tcp'])).stdout, '0.0.0.0:32768\n127.0.0.1:32769\n');
  const none = await r.tscni(['port', 'web', '81']);
  t.deepEqual([none.code, none.stderr], [3, "tscni: no public port '81/tcp' published for web\n"]);
  t.is(await curlUntil(r, 'http://127.0.0.1:32768/'), PAGE);
  t.is(await curlUntil(r, 'http://127.0.0.1:32769/'), PAGE);
  const info = JSON.parse((await ok(t, r, ['inspect', 'web'])).stdout)[0];
  t.deepEqual(info.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }, { HostIp: '127.0.0.1', HostPort: '32769' }] });

  // Host processes on 32770 (IPv4) and on [::1]:32771 (IPv6 only): the range 32768-32772 has only 32772 left.
  const listeners = [
    spawn('ip', ['netns', 'exec', r.host.name, 'busybox', 'nc', '-l', '-p', '32770'], { stdio: 'ignore' }),
    spawn('ip', ['netns', 'exec', r.host.name, 'socat', 'TCP6-LISTEN:32771,bind=[::1],ipv6only=1', 'STDOUT'], { stdio: 'ignore' }),
  ];
  t.teardown(() => listeners.forEach((l) => l.kill('SIGKILL')));
  const listening = () => r.host.run(['ss', '-Htln']);
  for (let i = 0; i < 40 && !(listening().includes(':32770 ') && listening().includes('[::1]:32771 ')); i++) await new Promise((res) => setTimeout(res, 50));
  await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'ranged', '-p', '32768-32772:80', ...HTTPD]);
  t.is((await ok(t, r, ['port', 'ranged'])).stdout, '80/tcp -> 0.0.0.0:32772\n');
  t.is(await curlUntil(r, 'http://127.0.0.1:32772/'), PAGE);
  // Nothing left in 32768-32771: refused before anything exists.
  const full = await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'full', '-p', '32768-32771:80', ...HTTPD]);
  t.deepEqual([full.code, full.stderr], [4, 'tscni: no free host port in 32768-32771 for 0.0.0.0:?->80/tcp: every one is allocated or in use\n']);
  // A fixed port that a container holds: docker's message.
  const taken = await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'taken', '-p', '32772:80', ...HTTPD]);
  t.deepEqual([taken.code, taken.stderr], [4, 'tscni: Bind for 0.0.0.0:32772 failed: port is already allocated (by container ranged)\n']);
  t.deepEqual(readdirSync(join(r.state, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n)).length, 2);

  // Removed: the next pick gets 32768 again.
  await ok(t, r, ['rm', '-f', 'web', 'ranged']);
  t.false(r.host.run(['/usr/sbin/nft', 'list', 'ruleset']).includes('32768'));
  // --dry-run plans with the port a run would pick, and reserves nothing.
  const dry = await ok(t, r, ['run', '--dry-run', '--network', 'tnet', '--name', 'dry', '-p', '80', ...HTTPD]);
  t.true(dry.stdout.includes("tcp 0.0.0.0:32768 -> 10.99.71.2:80"), dry.stdout.slice(0, 400));
  await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'again', '-p', '80/udp', ...HTTPD]);
  t.is((await ok(t, r, ['port', 'again'])).stdout, '80/udp -> 0.0.0.0:32768\n');
  await ok(t, r, ['rm', '-f', 'again']);
  t.false(existsSync(join(r.cache, 'results')) && readdirSync(join(r.cache, 'results')).length > 0);
});

test.serial('-P publishes every port the image EXPOSEs (tscni load keeps ExposedPorts)', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'pP');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnitpP', '10.99.72.0/24'));
  const archive = ociArchive(r.dir, 'localhost/exposing:1', ['httpd', '-f', '-p', '80', '-h', '/www'], { ExposedPorts: { '80/tcp': {}, '53/udp': {} } });
  await ok(t, r, ['load', archive]);
  await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'exp', '-P', 'localhost/exposing:1']);
  t.is((await ok(t, r, ['port', 'exp'])).stdout, '53/udp -> 0.0.0.0:32768\n80/tcp -> 0.0.0.0:32768\n');
  t.is(await curlUntil(r, 'http://127.0.0.1:32768/'), OCI_PAGE);
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '--json'])).stdout)[0].Ports, [
    { hostIP: '', hostPort: 32768, containerPort: 53, protocol: 'udp' },
    { hostIP: '', hostPort: 32768, containerPort: 80, protocol: 'tcp' },
  ]);
  await ok(t, r, ['rm', '-f', 'exp']);
});

test.serial('-p [::1]:8080:80 and [::]: reachable from the host over ::1 (userland proxy), not from another host; stop/start; rm leaves nothing', async (t) => {
  if (!requireRoot(t)) return;
  const { r, peer } = dualStackWithPeer(t, 'p6', { dual: 'tnet6', v4: 'tnet4', bridge: 'tscnitp6', n: [74, 76, 75] });

  const id = (await ok(t, r, ['run', '-d', '--network', 'tnet6', '--name', 'web', '-p', '[::1]:8080:80', '-p', '[::]:8081:80', '-p', '[0::1]::80', ...HTTPD])).stdout.trim();
  t.is((await ok(t, r, ['port', 'web'])).stdout, '80/tcp -> [::1]:8080\n80/tcp -> [::]:8081\n80/tcp -> [::1]:32768\n');
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '--json'])).stdout)[0].Ports, [
    { hostIP: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostIP: '::', hostPort: 8081, containerPort: 80, protocol: 'tcp' },
    { hostIP: '::1', hostPort: 32768, containerPort: 80, protocol: 'tcp' },
  ]);
  for (const port of [8080, 8081, 32768]) t.is(await curlUntil(r, `http://[::1]:${port}/`), PAGE, `[::1]:${port}`);
  // The proxy listens on ::1 only; nft has no ::1 element (portmap never gets ::1), only the [::] wildcard.
  t.deepEqual(r.host.run(['ss', '-Hltn']).split('\n').filter(Boolean).map((l) => l.split(/\s+/)[3]).sort(), ['[::1]:32768', '[::1]:8080', '[::1]:8081']);
  t.deepEqual((await ok(t, r, ['explain', 'web', '8080'])).stdout.split('\n').slice(0, 2), [`A tcp packet to [::1]:8080 (published by web, ${id.slice(0, 12)}):`, "1. nftables: nothing (portmap's output chain returns for ::1: the kernel drops DNATed answers to ::1)"]);
  const ruleset = r.host.run(['/usr/sbin/nft', 'list', 'ruleset']);
  t.false(ruleset.includes('8080'));
  t.true(ruleset.includes('8081'));
  // From another host: [::] is public (as docker's), the [::1] ports are not reachable on any address.
  const peerCurl = (url: string) => peer.try(['curl', '-gfsS', '-m', '2', url]);
  t.is(peerCurl('http://[fd99:75::1]:8081/').stdout, PAGE);
  for (const url of ['http://[fd99:75::1]:8080/', 'http://[fd99:75::1]:32768/', 'http://10.99.75.1:8080/']) t.is(peerCurl(url).status, 7, url);

  const proxyPid = Number(readFileSync(join(r.state, 'containers', id, 'proxy.pid'), 'utf8'));
  await ok(t, r, ['stop', '-t', '0', 'web']);
  t.false(existsSync(join(r.state, 'containers', id, 'proxy.pid')));
  t.false(existsSync(`/proc/${proxyPid}/cmdline`) && readFileSync(`/proc/${proxyPid}/cmdline`, 'utf8').includes('__proxy'));
  t.is(r.host.run(['ss', '-Hltn']), '');
  await ok(t, r, ['start', 'web']);
  t.is(await curlUntil(r, 'http://[::1]:8080/'), PAGE);
  await ok(t, r, ['rm', '-f', 'web']);
  t.is(r.host.run(['ss', '-Hltn']), '');
  t.is(r.host.try(['curl', '-gfsS', '-m', '1', 'http://[::1]:8080/']).status, 7);
  t.deepEqual(readdirSync(join(r.state, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n)), []);

  // [::1] on an IPv4-only network: proxied to the IPv4 address. Another IPv6 host IP there: refused, nothing left.
  await ok(t, r, ['run', '-d', '--network', 'tnet4', '--name', 'v4', '-p', '[::1]:8080:80', ...HTTPD]);
  t.is(await curlUntil(r, 'http://[::1]:8080/'), PAGE);
  const noV6 = await r.tscni(['run', '-d', '--network', 'tnet4', '--name', 'nov6', '-p', '[fd99:75::1]:8090:80', ...HTTPD]);
  t.deepEqual([noV6.code, noV6.stderr], [2, 'tscni: cannot publish [fd99:75::1]:8090->80/tcp: network tnet4 gave the container no IPv6 address (an IPv6 host IP needs a dual-stack network; [::1] works on any)\n']);
  // A host process on [::1]:8091: the proxy cannot bind it; the run is undone.
  const listener = spawn('ip', ['netns', 'exec', r.host.name, 'socat', 'TCP6-LISTEN:8091,bind=[::1],reuseaddr', '-'], { stdio: 'ignore' });
  t.teardown(() => listener.kill('SIGKILL'));
  for (let i = 0; i < 40 && !r.host.run(['ss', '-Htln']).includes('[::1]:8091 '); i++) await new Promise((res) => setTimeout(res, 50));
  const held = await r.tscni(['run', '-d', '--network', 'tnet4', '--name', 'held', '-p', '[::1]:8091:80', ...HTTPD]);
  t.deepEqual([held.code, held.stderr], [4, 'tscni: cannot publish on [::1]: Bind for [::1]:8091/tcp failed: port is already allocated (a host process listens on it)\n']);
  const bad = await r.tscni(['run', '-d', '--network', 'tnet6', '-p', '[::1::]:8080:80', ...HTTPD]);
  t.deepEqual([bad.code, bad.stderr], [2, 'tscni: invalid host IP "::1::" in -p [::1::]:8080:80\n']);
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '-a', '--json'])).stdout).map((c: any) => c.Name), ['v4']);
  await ok(t, r, ['rm', '-f', 'v4']);
  t.deepEqual(readdirSync(join(r.state, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n)), []);
  t.deepEqual(readdirSync(join(r.cache, 'results')), []);
  t.false(r.host.run(['ss', '-Hltn']).includes('bun'));
});

test.serial('-p 8080:80 without a host IP on a dual-stack network: 0.0.0.0 and [::] as docker ([::1] by the proxy, the host IPv6 address by portmap); IPv4-only unchanged', async (t) => {
  if (!requireRoot(t)) return;
  const { r, peer } = dualStackWithPeer(t, 'pw', { dual: 'dual', v4: 'v4', bridge: 'tscnitpw', n: [61, 62, 63] });

  const id = (await ok(t, r, ['run', '-d', '--network', 'dual', '--name', 'web', '-p', '8080:80', ...HTTPD])).stdout.trim();
  await ok(t, r, ['run', '-d', '--network', 'v4', '--name', 'web4', '-p', '8084:80', ...HTTPD]);
  t.is((await ok(t, r, ['port', 'web'])).stdout, '80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n');
  t.is((await ok(t, r, ['port', 'web4'])).stdout, '80/tcp -> 0.0.0.0:8084\n');
  const ins = JSON.parse((await ok(t, r, ['inspect', 'web'])).stdout)[0];
  t.deepEqual([ins.NetworkSettings.Ports, ins.HostConfig.PortBindings], [{ '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }] }, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] }]);
  // From the host: every address, [::1] included (the proxy is the only listener); from another host: both families.
  for (const url of ['http://127.0.0.1:8080/', 'http://[::1]:8080/', 'http://10.99.63.1:8080/', 'http://[fd99:63::1]:8080/']) t.is(await curlUntil(r, url), PAGE, url);
  t.deepEqual(r.host.run(['ss', '-Hltn']).split('\n').filter(Boolean).map((l) => l.split(/\s+/)[3]), ['[::1]:8080']);
  for (const url of ['http://10.99.63.1:8080/', 'http://[fd99:63::1]:8080/']) t.is(peer.try(['curl', '-gfsS', '-m', '2', url]).stdout, PAGE, `peer ${url}`);
  // IPv4-only: as before, IPv4 addresses only (no proxy, nothing answers on [::1] or the host's IPv6 address).
  t.is(await curlUntil(r, 'http://127.0.0.1:8084/'), PAGE);
  t.is(peer.try(['curl', '-gfsS', '-m', '2', 'http://10.99.63.1:8084/']).stdout, PAGE);
  for (const url of ['http://[::1]:8084/', 'http://[fd99:63::1]:8084/']) t.is(r.host.try(['curl', '-gfsS', '-m', '1', url]).status, 7, url);
  t.false(existsSync(join(r.state, 'containers', JSON.parse((await ok(t, r, ['inspect', 'web4'])).stdout)[0].Id, 'proxy.pid')));

  // stop/start: the [::1] side goes and comes back with the container.
  await ok(t, r, ['stop', '-t', '0', 'web']);
  t.false(existsSync(join(r.state, 'containers', id, 'proxy.pid')));
  t.is(r.host.run(['ss', '-Hltn']), '');
  await ok(t, r, ['start', 'web']);
  t.is(await curlUntil(r, 'http://[::1]:8080/'), PAGE);
  // A host process on [::1]:8086: portmap's own probe of [::] refuses it (docker's [::] binding fails the same way); the run is undone.
  const listener = spawn('ip', ['netns', 'exec', r.host.name, 'socat', 'TCP6-LISTEN:8086,bind=[::1],reuseaddr', '-'], { stdio: 'ignore' });
  t.teardown(() => listener.kill('SIGKILL'));
  for (let i = 0; i < 40 && !r.host.run(['ss', '-Htln']).includes('[::1]:8086 '); i++) await new Promise((res) => setTimeout(res, 50));
  const held = await r.tscni(['run', '-d', '--network', 'dual', '--name', 'held', '-p', '8086:80', ...HTTPD]);
  t.deepEqual([held.code, held.stderr], [1, 'tscni: plugin type="portmap" name="dual" failed (add): port is already allocated: tcp [::]:8086 held by a host process (bind: EADDRINUSE)\n']);
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '-a', '--json'])).stdout).map((c: any) => c.Name).sort(), ['web', 'web4']);
  listener.kill('SIGKILL');
  await ok(t, r, ['rm', '-f', 'web', 'web4']);
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '-a', '--json'])).stdout), []);
  for (let i = 0; i < 40 && r.host.run(['ss', '-Hltn']) !== ''; i++) await new Promise((res) => setTimeout(res, 50));
  t.is(r.host.run(['ss', '-Hltn']), '');
  const ruleset = r.host.run(['/usr/sbin/nft', 'list', 'ruleset']);
  for (const port of ['8080', '8084', '8086']) t.false(ruleset.includes(port), port);
});

test.serial('the portmap plugin given hostIP ::1 directly: CNI error 2 naming the field and value, nothing published', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'pl');
  const net = testNetwork(r, 'tnetl', 'tscnitpl', '10.99.77.0/24') as any;
  net.plugins[0].ipam.ranges.push([{ subnet: 'fd99:77::/64' }]);
  writeConf(r, '10-tnetl.conflist', net);
  const ctr = makeNetns(t, 'plc');
  const caps = { CAP_ARGS: JSON.stringify({ portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '::1' }] }) };
  const add = await r.tscni(['add', '--id', 'plc', 'tnetl', ctr.path], caps);
  t.is(add.code, 1);
  t.is(add.stderr, 'tscni: plugin type="portmap" name="tnetl" failed (add): unsupported portMappings[0].hostIP "::1": the kernel cannot DNAT IPv6 loopback (no route_localnet for IPv6): publish on 127.0.0.1, or use a userland proxy on [::1] (tscni run -p [::1]:PORT:PORT does)\n');
  t.false(r.host.try(['/usr/sbin/nft', 'list', 'ruleset']).stdout.includes('8080'));
  await ok(t, r, ['del', '--id', 'plc', 'tnetl', ctr.path]);
});
