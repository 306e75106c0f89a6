// tscni run --network host|none|container:NAME on runc inside a private host netns: what each mode has inside,
// what it reaches, what inspect says, that rm leaves nothing, and bad input refused before anything exists.

import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ipJson, requireRoot } from '../../helpers/netns.ts';
import { leased, makeRunnerEnv, NOTHING, stateLeft, testNetwork, writeConf, type RunnerEnv, ok, curlUntil, execUntil } from './harness.ts';

const PAGE = '<!doctype html>\n<title>tscni</title>\n<h1>Hello from busybox httpd in a tscni container</h1>\n';

function setup(t: any, role: string, subnet: string): RunnerEnv {
  const r = makeRunnerEnv(t, role);
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', `tscnit${role}`, subnet));
  return r;
}



test.serial('--network none: lo up through the loopback plugin, nothing else; inspect; rm leaves nothing', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'mn', '10.99.61.0/24');
  const id = (await ok(t, r, ['run', '-d', '--network', 'none', '--name', 'lonely', 'busybox', 'sleep', '60'])).stdout.trim();
  const links = JSON.parse(r.host.run(['ip', '-n', id, '-j', 'addr', 'show']));
  t.deepEqual(links.map((l: any) => [l.ifname, l.operstate, l.addr_info.map((a: any) => `${a.local}/${a.prefixlen}`)]), [['lo', 'UNKNOWN', ['127.0.0.1/8', '::1/128']]]);
  // The chain that did it: the loopback plugin, cached like any attachment (network "none", interface lo).
  t.deepEqual(readdirSync(join(r.cache, 'results')), [`none-${id}-lo`]);
  t.is(await execUntil(r, 'lonely', ['cat', '/etc/hostname']), `${id.slice(0, 12)}\n`);
  const ping = await r.tscni(['exec', 'lonely', 'ping', '-c', '1', '-W', '1', '10.99.61.1']);
  t.is(ping.code, 1);
  t.regex(ping.stderr, /Network unreachable|network is unreachable/i);
  const info = JSON.parse((await ok(t, r, ['inspect', 'lonely'])).stdout)[0];
  t.is(info.HostConfig.NetworkMode, 'none');
  t.deepEqual(info.NetworkSettings.Networks, { none: { IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '' } });
  t.is(info.NetworkSettings.SandboxKey, `/var/run/netns/${id}`);
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '--json'])).stdout).map((c: any) => [c.Name, c.Network, c.IPAddress]), [['lonely', 'none', '']]);
  await ok(t, r, ['rm', '-f', 'lonely']);
  t.false(existsSync(`/var/run/netns/${id}`));
  t.deepEqual(stateLeft(r), NOTHING);
});

test.serial('--network host: the host netns, no veth, no NAT; -p refused; inspect; rm leaves nothing', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'mh', '10.99.62.0/24');
  const pub = await r.tscni(['run', '-d', '--network', 'host', '-p', '8080:80', 'busybox', 'true']);
  t.deepEqual([pub.code, pub.stderr], [2, 'tscni: conflicting options: port publishing and the host network mode (a host-network container listens on the host ports itself)\n']);
  const id = (await ok(t, r, ['run', '-d', '--network', 'host', '--name', 'hnet', 'busybox', 'httpd', '-f', '-p', '127.0.0.1:18181', '-h', '/www'])).stdout.trim();
  t.is(await curlUntil(r, 'http://127.0.0.1:18181/'), PAGE);
  t.false(existsSync(`/var/run/netns/${id}`));
  t.deepEqual(stateLeft(r).veths, 0);
  t.false(r.host.run(['/usr/sbin/nft', 'list', 'ruleset']).includes('masquerade'));
  // The container sees the host netns's interfaces (lo only in this private host).
  t.deepEqual((await execUntil(r, 'hnet', ['ls', '/sys/class/net'])).trim().split(/\s+/), ['lo']);
  const info = JSON.parse((await ok(t, r, ['inspect', 'hnet'])).stdout)[0];
  t.is(info.HostConfig.NetworkMode, 'host');
  t.is(info.NetworkSettings.SandboxKey, '');
  await ok(t, r, ['rm', '-f', 'hnet']);
  t.deepEqual(stateLeft(r), NOTHING);
  t.is(r.host.try(['curl', '-fsS', '-m', '1', 'http://127.0.0.1:18181/']).status, 7);
});

test.serial('--network container:NAME shares the netns; the joined one is kept until -f; rm leaves nothing', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'mc', '10.99.63.0/24');
  const webId = (await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'web', '--hostname', 'webhost', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www'])).stdout.trim();
  const sideId = (await ok(t, r, ['run', '-d', '--network', 'container:web', '--name', 'side', 'busybox', 'sleep', '60'])).stdout.trim();
  t.is(await execUntil(r, 'side', ['wget', '-qO-', 'http://127.0.0.1:80/']), PAGE);
  const webIp = JSON.parse((await ok(t, r, ['inspect', 'web'])).stdout)[0].NetworkSettings.IPAddress;
  t.regex(webIp, /^10\.99\.63\.\d+$/);
  t.regex(await execUntil(r, 'side', ['ip', '-o', '-4', 'addr', 'show', 'eth0']), new RegExp(`inet ${webIp.replace(/\./g, '\\.')}/24 `));
  t.is(await execUntil(r, 'side', ['cat', '/etc/hostname']), 'webhost\n');
  const side = JSON.parse((await ok(t, r, ['inspect', 'side'])).stdout)[0];
  t.is(side.HostConfig.NetworkMode, `container:${webId}`);
  t.is(side.NetworkSettings.SandboxKey, `/var/run/netns/${webId}`);
  t.deepEqual(side.NetworkSettings.Networks, {});
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '--json'])).stdout).map((c: any) => [c.Name, c.Network]), [['side', `container:${webId}`], ['web', 'tnet']]);
  // Only one veth and one lease: the joiner added no interface.
  t.is(stateLeft(r).veths, 1);
  const busy = await r.tscni(['rm', 'web']);
  t.deepEqual([busy.code, busy.stderr], [4, 'tscni: cannot remove container web: side shares its network namespace (--network container:web); remove it first or use rm -f\n']);
  await ok(t, r, ['rm', '-f', 'side']);
  t.true(existsSync(`/var/run/netns/${webId}`), 'removing the joiner keeps the joined netns');
  await ok(t, r, ['rm', '-f', 'web']);
  t.false(existsSync(`/var/run/netns/${sideId}`));
  t.false(existsSync(`/var/run/netns/${webId}`));
  t.false(leased(r.ipam, 'tnet', webIp));
  t.deepEqual(stateLeft(r), NOTHING);
});

test.serial('bad network modes and flags: a clear message, the exit code, nothing left', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'mb', '10.99.64.0/24');
  await ok(t, r, ['run', '-d', '--network', 'none', '--name', 'gone', 'busybox', 'true']);
  for (let i = 0; i < 50 && JSON.parse((await ok(t, r, ['ps', '--json'])).stdout).length; i++) await new Promise((res) => setTimeout(res, 50));
  const cases: [string[], number, string][] = [
    [['--network', 'bogus:x'], 2, 'invalid --network "bogus:x": expected a network name, host, none or container:NAME|ID'],
    [['--network', 'nosuch'], 3, ''],
    [['--network', 'container:'], 2, 'invalid --network container: a container name or id is required (container:NAME|ID)'],
    [['--network', 'container:nope'], 3, 'cannot join the network of container nope: no such container'],
    [['--network', 'container:gone'], 4, 'cannot join the network of container gone: it is exited, not running'],
    [['--network', 'none', '-p', '80'], 2, 'conflicting options: port publishing and the none network mode (it has no interface to publish to)'],
    [['--network', 'host', '--ip', '10.99.64.9'], 2, 'conflicting options: --ip/--mac and the host network mode'],
    [['--network', 'container:gone', '--hostname', 'x'], 2, "conflicting options: --hostname and the container network mode (the joined container's host name is used)"],
    [['-p', '80:80:80:80'], 2, 'invalid -p 80:80:80:80: expected [[hostIP:][hostPort]:]containerPort[/protocol]'],
  ];
  for (const [flags, code, msg] of cases) {
    const o = await r.tscni(['run', '-d', ...flags, 'busybox', 'true']);
    t.is(o.code, code, `${flags.join(' ')}: ${o.stderr}`);
    if (msg) t.is(o.stderr, `tscni: ${msg}\n`);
  }
  const netCreate = await r.tscni(['network', 'create', 'host', '--subnet', '10.99.65.0/24']);
  t.deepEqual([netCreate.code, netCreate.stderr], [2, 'tscni: invalid network name "host": it is a network mode (run --network host)\n']);
  await ok(t, r, ['rm', 'gone']);
  t.deepEqual(stateLeft(r), NOTHING);
});

test.serial('network connect|disconnect: eth1 through the other chain while running, kept across stop/start, DELed on disconnect', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'mx', '10.99.66.0/24');
  writeConf(r, '11-onet.conflist', testNetwork(r, 'onet', 'tscnitmxo', '10.99.67.0/24'));
  await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'a', 'busybox', 'sleep', '60']);
  await ok(t, r, ['run', '-d', '--network', 'onet', '--name', 'b', ...['busybox', 'httpd', '-f', '-p', '80', '-h', '/www']]);
  const bIp = JSON.parse((await ok(t, r, ['inspect', 'b'])).stdout)[0].NetworkSettings.IPAddress;
  t.is((await ok(t, r, ['network', 'connect', 'onet', 'a'])).stdout, 'a\n');
  const again = await r.tscni(['network', 'connect', 'onet', 'a']);
  t.deepEqual([again.code, again.stderr], [4, 'tscni: container a is already connected to network onet\n']);
  const a = JSON.parse((await ok(t, r, ['inspect', 'a'])).stdout)[0];
  const eth1 = a.NetworkSettings.Networks.onet;
  t.is(eth1.InterfaceName, 'eth1');
  t.regex(eth1.IPAddress, /^10\.99\.67\.\d+$/);
  t.is(eth1.Gateway, '10.99.67.1');
  t.regex(await execUntil(r, 'a', ['ip', '-o', '-4', 'addr', 'show', 'eth1']), new RegExp(`inet ${eth1.IPAddress.replace(/\./g, '\\.')}/24 `));
  t.is(await execUntil(r, 'a', ['wget', '-qO-', `http://${bIp}/`]), PAGE);
  t.true(leased(r.ipam, 'onet', eth1.IPAddress));
  const onet = JSON.parse((await ok(t, r, ['network', 'inspect', 'onet'])).stdout);
  t.deepEqual(Object.values(onet.Containers).map((c: any) => c.Name).sort(), ['a', 'b']);

  await ok(t, r, ['stop', '-t', '0', 'a']);
  t.false(leased(r.ipam, 'onet', eth1.IPAddress), 'stop releases the connected network too');
  await ok(t, r, ['start', 'a']);
  const restarted = JSON.parse((await ok(t, r, ['inspect', 'a'])).stdout)[0].NetworkSettings.Networks.onet;
  t.regex(await execUntil(r, 'a', ['ip', '-o', '-4', 'addr', 'show', 'eth1']), new RegExp(`inet ${restarted.IPAddress.replace(/\./g, '\\.')}/24 `));

  await ok(t, r, ['network', 'disconnect', 'onet', 'a']);
  t.deepEqual((await execUntil(r, 'a', ['ls', '/sys/class/net'])).trim().split(/\s+/), ['eth0', 'lo']);
  t.false(leased(r.ipam, 'onet', restarted.IPAddress));
  const first = await r.tscni(['network', 'disconnect', 'tnet', 'a']);
  t.deepEqual([first.code, first.stderr], [4, 'tscni: cannot disconnect container a from tnet: it is the network it was started on (remove the container instead)\n']);
  const hostMode = await r.tscni(['run', '-d', '--network', 'host', '--name', 'h', 'busybox', 'sleep', '60']);
  t.is(hostMode.code, 0);
  const refused = await r.tscni(['network', 'connect', 'onet', 'h']);
  t.deepEqual([refused.code, refused.stderr], [4, 'tscni: cannot connect container h to network onet: it is in the host network mode (only containers on a user network can have more)\n']);
  const unknown = await r.tscni(['network', 'connect', 'nonet', 'a']);
  t.is(unknown.code, 3);
  await ok(t, r, ['rm', '-f', 'a', 'b', 'h']);
  t.deepEqual(stateLeft(r), NOTHING);
});
