// Names on user networks: containers resolve each other's names, aliases and short ids through the network's
// resolver; other names go to an upstream resolver started in a test netns; a container on another network and
// one on a network without DNS do not see them; removed names stop resolving within 1 s; nothing is left behind.

import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeNetns, requireRoot, wireVeth } from '../../helpers/netns.ts';
import { makeRunnerEnv, mountsUnder, testNetwork, writeConf, type RunnerEnv, ok } from './harness.ts';

/** The answers busybox nslookup prints for `name` (after the server's own lines); [] when it fails. */
async function resolve(r: RunnerEnv, from: string, name: string, type = 'a'): Promise<string[]> {
  const o = await r.tscni(['exec', from, 'nslookup', `-type=${type}`, name]);
  if (o.code !== 0) return [];
  const after = o.stdout.split(/\n\s*\n/).slice(1).join('\n');
  return [...after.matchAll(/^Address:\s*([0-9a-f.:]+)$/gm)].map((m) => m[1]);
}

const ipOf = async (t: any, r: RunnerEnv, name: string) => JSON.parse((await ok(t, r, ['inspect', name])).stdout)[0].NetworkSettings.IPAddress as string;

test.serial('names, aliases, ids and outside names on a user network; isolation from other networks; gone within 1 s', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'dn');
  // dnet is dual stack: AAAA answers too.
  const dnet = testNetwork(r, 'dnet', 'tscnitdn', '10.99.81.0/24') as any;
  dnet.plugins[0].ipam.ranges.push([{ subnet: 'fd99:81::/64' }]);
  writeConf(r, '20-dnet.conflist', { ...dnet, tscni: { dns: true } });
  writeConf(r, '21-enet.conflist', { ...testNetwork(r, 'enet', 'tscnitde', '10.99.82.0/24'), tscni: { dns: true } });
  writeConf(r, '22-tnet.conflist', testNetwork(r, 'tnet', 'tscnitdt', '10.99.83.0/24'));
  // The upstream: its own netns behind a veth, never the machine's resolvers.
  const up = makeNetns(t, 'dnup');
  wireVeth(r.host, 'tscnitdu', '10.99.84.1/24', up, 'eth0', '10.99.84.2/24');
  const server = spawn('ip', ['netns', 'exec', up.name, process.execPath, join(import.meta.dirname, '../../helpers/dns-upstream.ts'), 'outside.example=192.0.2.44'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => server.kill('SIGKILL'));
  await new Promise((res) => server.stdout!.once('data', res));
  r.env.TSCNI_DNS_UPSTREAM = '10.99.84.2';

  const HTTPD = ['busybox', 'httpd', '-f', '-p', '80', '-h', '/www'];
  const aId = (await ok(t, r, ['run', '-d', '--network', 'dnet', '--name', 'alpha', '--network-alias', 'db', ...HTTPD])).stdout.trim();
  await ok(t, r, ['run', '-d', '--network', 'dnet', '--name', 'beta', ...HTTPD]);
  await ok(t, r, ['run', '-d', '--network', 'enet', '--name', 'other', 'busybox', 'sleep', '60']);
  await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'plain', 'busybox', 'sleep', '60']);
  const alpha = await ipOf(t, r, 'alpha');
  const beta = await ipOf(t, r, 'beta');

  t.is((await ok(t, r, ['exec', 'beta', 'cat', '/etc/resolv.conf'])).stdout.split('\n')[0], 'nameserver 10.99.81.1');
  t.regex((await ok(t, r, ['exec', 'alpha', 'cat', '/etc/hosts'])).stdout, new RegExp(`^${alpha.replace(/\./g, '\\.')}\t${aId.slice(0, 12)} alpha$`, 'm'));
  t.deepEqual(await resolve(r, 'beta', 'alpha'), [alpha]);
  t.deepEqual(await resolve(r, 'beta', 'ALPHA'), [alpha]);
  t.deepEqual(await resolve(r, 'beta', 'db'), [alpha]);
  t.deepEqual(await resolve(r, 'beta', aId.slice(0, 12)), [alpha]);
  t.deepEqual(await resolve(r, 'alpha', 'beta'), [beta]);
  const alpha6 = JSON.parse((await ok(t, r, ['inspect', 'alpha'])).stdout)[0].NetworkSettings.GlobalIPv6Address;
  t.regex(alpha6, /^fd99:81::[0-9a-f]+$/);
  t.deepEqual(await resolve(r, 'beta', 'db', 'aaaa'), [alpha6]);
  t.deepEqual(await resolve(r, 'other', 'outside.example', 'aaaa'), []);
  t.deepEqual(await resolve(r, 'beta', 'outside.example'), ['192.0.2.44']);
  t.deepEqual(await resolve(r, 'beta', 'nowhere.example'), []);
  // Reachable by name.
  t.is((await ok(t, r, ['exec', 'beta', 'wget', '-qO-', 'http://db/'])).stdout.includes('Hello from busybox httpd'), true);
  // Another DNS network and a network without DNS see none of them.
  t.deepEqual(await resolve(r, 'other', 'alpha'), []);
  t.deepEqual(await resolve(r, 'other', 'outside.example'), ['192.0.2.44']);
  t.false((await ok(t, r, ['exec', 'plain', 'cat', '/etc/resolv.conf'])).stdout.includes('10.99.83.1'));

  // An alias another container answers to: refused before anything exists.
  const clash = await r.tscni(['run', '-d', '--network', 'dnet', '--name', 'gamma', '--network-alias', 'db', 'busybox', 'sleep', '60']);
  t.deepEqual([clash.code, clash.stderr], [4, 'tscni: network alias "db" is already in use on network dnet by container alpha\n']);
  const badAlias = await r.tscni(['run', '-d', '--network', 'dnet', '--network-alias', 'no/slash', 'busybox', 'sleep', '60']);
  t.deepEqual([badAlias.code, badAlias.stderr], [2, 'tscni: invalid --network-alias "no/slash": DNS labels of letters, digits, _ and -, separated by dots\n']);
  const aliasAsName = await r.tscni(['run', '-d', '--network', 'dnet', '--name', 'db', 'busybox', 'sleep', '60']);
  t.deepEqual([aliasAsName.code, aliasAsName.stderr], [4, 'tscni: the name "db" is a network alias of container alpha on network dnet\n']);
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '-a', '--json'])).stdout).map((c: any) => c.Name).sort(), ['alpha', 'beta', 'other', 'plain']);
  t.is(readdirSync(join(r.state, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n)).length, 4);

  // Removed: gone within 1 s (the resolver re-reads the store at most every 200 ms).
  await ok(t, r, ['rm', '-f', 'alpha']);
  const t0 = Date.now();
  let gone = false;
  while (!gone && Date.now() - t0 < 1000) gone = (await resolve(r, 'beta', 'alpha')).length === 0;
  t.true(gone, 'alpha still resolves 1 s after rm');

  // A resolver that died (a crash; a reboot looks the same: a pid file naming a dead or foreign pid) is
  // replaced by the next start on its network.
  const pidFile = join(r.state, 'dns', 'dnet.pid');
  const dead = Number(readFileSync(pidFile, 'utf8'));
  t.true(readFileSync(`/proc/${dead}/cmdline`, 'utf8').split('\0').includes('__resolver'));
  process.kill(dead, 'SIGKILL');
  for (let i = 0; i < 40 && running(dead); i++) await new Promise((res) => setTimeout(res, 25));
  t.deepEqual(await resolve(r, 'beta', 'beta'), []);
  await ok(t, r, ['run', '-d', '--network', 'dnet', '--name', 'delta', 'busybox', 'sleep', '60']);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  t.not(pid, dead);
  t.deepEqual(await resolve(r, 'beta', 'delta'), [await ipOf(t, r, 'delta')]);
  await ok(t, r, ['rm', '-f', 'beta', 'delta', 'other', 'plain']);
  // Each resolver exits once its network is unused (two idle checks, 1 s apart), taking its files along.
  for (let i = 0; i < 60 && existsSync(join(r.state, 'dns')) && readdirSync(join(r.state, 'dns')).length; i++) await new Promise((res) => setTimeout(res, 100));
  t.deepEqual(readdirSync(join(r.state, 'dns')), []);
  t.false(running(pid));
});

/** Whether a process runs (a zombie does not: this machine's init does not reap orphans). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}

test.serial('network connect --alias: the alias answers on that network only, clashes are refused, gone on disconnect', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'da');
  writeConf(r, '20-anet.conflist', { ...testNetwork(r, 'anet', 'tscnitda', '10.99.85.0/24'), tscni: { dns: true } });
  writeConf(r, '21-bnet.conflist', { ...testNetwork(r, 'bnet', 'tscnitdb', '10.99.86.0/24'), tscni: { dns: true } });
  await ok(t, r, ['run', '-d', '--network', 'anet', '--name', 'x', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
  await ok(t, r, ['run', '-d', '--network', 'bnet', '--name', 'y', 'busybox', 'sleep', '60']);
  await ok(t, r, ['run', '-d', '--network', 'anet', '--name', 'z', 'busybox', 'sleep', '60']);
  const bad = await r.tscni(['network', 'connect', '--alias', 'no/slash', 'bnet', 'x']);
  t.deepEqual([bad.code, bad.stderr], [2, 'tscni: invalid --alias "no/slash": DNS labels of letters, digits, _ and -, separated by dots\n']);
  t.is((await ok(t, r, ['network', 'connect', '--alias', 'web2', '--alias', 'www', 'bnet', 'x'])).stdout, 'x\n');
  const xb = JSON.parse((await ok(t, r, ['inspect', 'x'])).stdout)[0].NetworkSettings.Networks.bnet;
  t.deepEqual([xb.InterfaceName, xb.Aliases], ['eth1', ['web2', 'www']]);
  t.regex(xb.IPAddress, /^10\.99\.86\.\d+$/);
  t.deepEqual(await resolve(r, 'y', 'web2'), [xb.IPAddress]);
  t.deepEqual(await resolve(r, 'y', 'WWW'), [xb.IPAddress]);
  t.true((await ok(t, r, ['exec', 'y', 'wget', '-qO-', 'http://web2/'])).stdout.includes('Hello from busybox httpd'));
  // z shares only anet with x: the bnet alias is not its to see (x's own name is).
  t.deepEqual(await resolve(r, 'z', 'web2'), []);
  t.deepEqual(await resolve(r, 'z', 'x'), [await ipOf(t, r, 'x')]);
  // Taken on bnet: refused for another container there, nothing changed.
  const clash = await r.tscni(['network', 'connect', '--alias', 'web2', 'bnet', 'z']);
  t.deepEqual([clash.code, clash.stderr], [4, 'tscni: network alias "web2" is already in use on network bnet by container x\n']);
  t.deepEqual(Object.keys(JSON.parse((await ok(t, r, ['inspect', 'z'])).stdout)[0].NetworkSettings.Networks), ['anet']);
  const again = await r.tscni(['network', 'connect', '--alias', 'other', 'bnet', 'x']);
  t.deepEqual([again.code, again.stderr], [4, 'tscni: container x is already connected to network bnet\n']);
  const notOn = await r.tscni(['network', 'connect', '--alias', 'web3', 'nonet', 'x']);
  t.is(notOn.code, 3);
  // Disconnected: the alias goes within 1 s.
  await ok(t, r, ['network', 'disconnect', 'bnet', 'x']);
  const t0 = Date.now();
  let gone = false;
  while (!gone && Date.now() - t0 < 1000) gone = (await resolve(r, 'y', 'web2')).length === 0;
  t.true(gone, 'web2 still resolves 1 s after disconnect');
  await ok(t, r, ['rm', '-f', 'x', 'y', 'z']);
  for (let i = 0; i < 60 && existsSync(join(r.state, 'dns')) && readdirSync(join(r.state, 'dns')).length; i++) await new Promise((res) => setTimeout(res, 100));
  t.deepEqual(readdirSync(join(r.state, 'dns')), []);
});

/** One query from inside a container's netns (by its id) with test/helpers/dns-query.ts, over udp or tcp. */
function query(r: RunnerEnv, netnsId: string, proto: 'udp' | 'tcp', server: string, name: string, type = 'A'): { rcode?: number; answers?: string[]; error?: string } {
  const o = r.host.run(['ip', 'netns', 'exec', netnsId, process.execPath, join(import.meta.dirname, '../../helpers/dns-query.ts'), proto, server, name, type]);
  return JSON.parse(o);
}

test.serial('the resolver answers over TCP too, and on the IPv6 gateway of a dual-stack network (listed in resolv.conf)', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'dt');
  const dnet = testNetwork(r, 'dnet', 'tscnitdt6', '10.99.87.0/24') as any;
  dnet.plugins[0].ipam.ranges.push([{ subnet: 'fd99:87::/64' }]);
  writeConf(r, '20-dnet.conflist', { ...dnet, tscni: { dns: true } });
  writeConf(r, '21-v4net.conflist', { ...testNetwork(r, 'v4net', 'tscnitdt4', '10.99.88.0/24'), tscni: { dns: true } });
  const up = makeNetns(t, 'dtup');
  wireVeth(r.host, 'tscnitdtu', '10.99.89.1/24', up, 'eth0', '10.99.89.2/24');
  const server = spawn('ip', ['netns', 'exec', up.name, process.execPath, join(import.meta.dirname, '../../helpers/dns-upstream.ts'), 'outside.example=192.0.2.45'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => server.kill('SIGKILL'));
  await new Promise((res) => server.stdout!.once('data', res));
  r.env.TSCNI_DNS_UPSTREAM = '10.99.89.2';
  const aId = (await ok(t, r, ['run', '-d', '--network', 'dnet', '--name', 'a6', '--network-alias', 'svc', 'busybox', 'sleep', '60'])).stdout.trim();
  const bId = (await ok(t, r, ['run', '-d', '--network', 'dnet', '--name', 'b6', 'busybox', 'sleep', '60'])).stdout.trim();
  const cId = (await ok(t, r, ['run', '-d', '--network', 'v4net', '--name', 'c4', 'busybox', 'sleep', '60'])).stdout.trim();
  const a = JSON.parse((await ok(t, r, ['inspect', 'a6'])).stdout)[0].NetworkSettings;
  t.regex(a.GlobalIPv6Address, /^fd99:87::[0-9a-f]+$/);
  // Dual stack: both gateways, IPv4 first (aardvark-dns lists every gateway it listens on); IPv4 only: one.
  t.deepEqual((await ok(t, r, ['exec', 'b6', 'cat', '/etc/resolv.conf'])).stdout.split('\n').filter((l) => l.startsWith('nameserver')), ['nameserver 10.99.87.1', 'nameserver fd99:87::1']);
  t.deepEqual((await ok(t, r, ['exec', 'c4', 'cat', '/etc/resolv.conf'])).stdout.split('\n').filter((l) => l.startsWith('nameserver')), ['nameserver 10.99.88.1']);
  for (const proto of ['udp', 'tcp'] as const) {
    for (const gw of ['10.99.87.1', 'fd99:87::1']) {
      t.deepEqual(query(r, bId, proto, gw, 'svc'), { rcode: 0, answers: [a.IPAddress] }, `${proto} ${gw} A`);
      t.deepEqual(query(r, bId, proto, gw, 'a6', 'AAAA'), { rcode: 0, answers: [a.GlobalIPv6Address] }, `${proto} ${gw} AAAA`);
      t.deepEqual(query(r, bId, proto, gw, 'outside.example'), { rcode: 0, answers: ['192.0.2.45'] }, `${proto} ${gw} upstream`);
      t.deepEqual(query(r, bId, proto, gw, 'nowhere.example'), { rcode: 3, answers: [] }, `${proto} ${gw} NXDOMAIN`);
    }
    // Another network's container: its own resolver does not know them; dnet's refuses it (not in its subnets).
    t.deepEqual(query(r, cId, proto, '10.99.88.1', 'svc'), { rcode: 3, answers: [] }, `${proto} other network`);
    t.deepEqual(query(r, cId, proto, '10.99.87.1', 'svc'), { rcode: 5, answers: [] }, `${proto} foreign client`);
    t.deepEqual(query(r, aId, proto, 'fd99:87::1', 'b6'), { rcode: 0, answers: [await ipOf(t, r, 'b6')] }, `${proto} from a6 over IPv6`);
  }
  // busybox nslookup inside the container, through resolv.conf's first server.
  t.deepEqual(await resolve(r, 'b6', 'svc', 'aaaa'), [a.GlobalIPv6Address]);
  await ok(t, r, ['rm', '-f', 'a6', 'b6', 'c4']);
  for (let i = 0; i < 60 && existsSync(join(r.state, 'dns')) && readdirSync(join(r.state, 'dns')).length; i++) await new Promise((res) => setTimeout(res, 100));
  t.deepEqual(readdirSync(join(r.state, 'dns')), []);
  // Nothing listens on the gateways' port 53 any more (the bridge addresses stay; the sockets went with the process).
  t.deepEqual(r.host.run(['ss', '-Hlntu', 'sport', '=', ':53']).trim(), '');
});

/** Names of nameserver lines in a container's resolv.conf. */
const nameservers = async (t: any, r: RunnerEnv, name: string) => (await ok(t, r, ['exec', name, 'cat', '/etc/resolv.conf'])).stdout.split('\n').filter((l) => l.startsWith('nameserver')).map((l) => l.slice(11));
/** The files a network's resolver keeps (pid, log, lock) that exist now. */
const dnsFiles = (r: RunnerEnv, net: string) => (existsSync(join(r.state, 'dns')) ? readdirSync(join(r.state, 'dns')).filter((f) => f.startsWith(`${net}.`)).sort() : []);
const resolverOf = (r: RunnerEnv, net: string) => (existsSync(join(r.state, 'dns', `${net}.pid`)) ? Number(readFileSync(join(r.state, 'dns', `${net}.pid`), 'utf8')) : 0);
/** Polls `resolve` until it gives `want`, for at most `ms`; the last answer. */
async function resolvesWithin(r: RunnerEnv, from: string, name: string, want: string[], ms = 1000): Promise<string[]> {
  const t0 = Date.now();
  let got = await resolve(r, from, name);
  while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() - t0 < ms) got = await resolve(r, from, name);
  return got;
}
const netIp = async (t: any, r: RunnerEnv, name: string, net: string) => JSON.parse((await ok(t, r, ['inspect', name])).stdout)[0].NetworkSettings.Networks[net].IPAddress as string;

test.serial('connected networks: connect starts the resolver, names resolve on every shared network, stop/start/rm/disconnect keep resolvers and names right, nothing left', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'dm');
  // tnet has no DNS (the default network's case); bnet and anet (dual stack) do, and no container starts on bnet.
  writeConf(r, '20-tnet.conflist', testNetwork(r, 'tnet', 'tscnitmt', '10.99.71.0/24'));
  writeConf(r, '21-bnet.conflist', { ...testNetwork(r, 'bnet', 'tscnitmb', '10.99.72.0/24'), tscni: { dns: true } });
  const anet = testNetwork(r, 'anet', 'tscnitma', '10.99.73.0/24') as any;
  anet.plugins[0].ipam.ranges.push([{ subnet: 'fd99:73::/64' }]);
  writeConf(r, '22-anet.conflist', { ...anet, tscni: { dns: true } });
  const up = makeNetns(t, 'dmup');
  wireVeth(r.host, 'tscnitmu', '10.99.74.1/24', up, 'eth0', '10.99.74.2/24');
  const server = spawn('ip', ['netns', 'exec', up.name, process.execPath, join(import.meta.dirname, '../../helpers/dns-upstream.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => server.kill('SIGKILL'));
  await new Promise((res) => server.stdout!.once('data', res));
  r.env.TSCNI_DNS_UPSTREAM = '10.99.74.2';

  const ids = [(await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'x', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www'])).stdout.trim()];
  ids.push((await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'y', 'busybox', 'sleep', '120'])).stdout.trim());
  await ok(t, r, ['run', '-d', '--network', 'container:x', '--name', 'j', 'busybox', 'sleep', '120']);
  t.false((await nameservers(t, r, 'x')).includes('10.99.71.1'));
  t.deepEqual(await nameservers(t, r, 'j'), await nameservers(t, r, 'x'));
  t.deepEqual(dnsFiles(r, 'bnet'), []);
  // Connected: bnet's resolver runs although no container has bnet first; x's resolv.conf now names it, and so does
  // the copy of j, which shares x's netns.
  await ok(t, r, ['network', 'connect', 'bnet', 'x']);
  const bPid = resolverOf(r, 'bnet');
  t.true(running(bPid), 'bnet resolver runs after connect');
  t.deepEqual(await nameservers(t, r, 'x'), ['10.99.72.1']);
  t.deepEqual(await nameservers(t, r, 'j'), ['10.99.72.1']);
  await ok(t, r, ['rm', '-f', 'j']);
  await ok(t, r, ['network', 'connect', '--alias', 'yy', 'bnet', 'y']);
  const xb = await netIp(t, r, 'x', 'bnet');
  const yb = await netIp(t, r, 'y', 'bnet');
  t.deepEqual(await resolve(r, 'y', 'x'), [xb]);
  t.deepEqual(await resolve(r, 'x', 'yy'), [yb]);
  t.true((await ok(t, r, ['exec', 'y', 'wget', '-qO-', 'http://x/'])).stdout.includes('Hello from busybox httpd'));
  // x on a third network (dual stack) and z there first: resolv.conf still lists one resolver (bnet's, x's first
  // DNS attachment); each side finds the other on anet, the network they share, through its own resolver.
  await ok(t, r, ['network', 'connect', 'anet', 'x']);
  t.deepEqual(await nameservers(t, r, 'x'), ['10.99.72.1']);
  ids.push((await ok(t, r, ['run', '-d', '--network', 'anet', '--name', 'z', 'busybox', 'sleep', '120'])).stdout.trim());
  t.deepEqual(await nameservers(t, r, 'z'), ['10.99.73.1', 'fd99:73::1']);
  const xa = await netIp(t, r, 'x', 'anet');
  t.deepEqual(await resolve(r, 'z', 'x'), [xa]);
  t.deepEqual(await resolve(r, 'x', 'z'), [await ipOf(t, r, 'z')]);
  t.deepEqual(await resolve(r, 'z', 'yy'), []);

  // stop/start of the multi-network container: its names go and come back within 1 s; bnet's resolver stays (y).
  await ok(t, r, ['stop', '-t', '1', 'x']);
  t.deepEqual(await resolvesWithin(r, 'y', 'x', []), []);
  t.deepEqual(await resolvesWithin(r, 'z', 'x', []), []);
  t.is(resolverOf(r, 'bnet'), bPid);
  t.true(running(bPid));
  await ok(t, r, ['start', 'x']);
  t.deepEqual(await resolvesWithin(r, 'y', 'x', [await netIp(t, r, 'x', 'bnet')]), [await netIp(t, r, 'x', 'bnet')]);
  t.deepEqual(await resolvesWithin(r, 'z', 'x', [await netIp(t, r, 'x', 'anet')]), [await netIp(t, r, 'x', 'anet')]);
  t.deepEqual(await nameservers(t, r, 'x'), ['10.99.72.1']);

  // y leaves bnet: back to the host's resolvers (tnet has none of its own); bnet's resolver stays for x.
  await ok(t, r, ['network', 'disconnect', 'bnet', 'y']);
  t.false((await nameservers(t, r, 'y')).includes('10.99.72.1'));
  t.deepEqual(await resolvesWithin(r, 'x', 'yy', []), []);
  t.true(running(bPid));
  // rm -f of x (on three networks): bnet's resolver, now unused, is gone right away with its files; anet's stays (z).
  await ok(t, r, ['rm', '-f', 'x']);
  t.false(running(bPid), 'bnet resolver still runs after rm -f of its last user');
  t.deepEqual(dnsFiles(r, 'bnet'), []);
  t.true(running(resolverOf(r, 'anet')));
  t.deepEqual(await resolvesWithin(r, 'z', 'x', []), []);

  // A container on bnet only through connect: stop stops the resolver, start brings it back, disconnecting the
  // network's only container stops it again and leaves nothing (no process, no files, nothing on :53).
  await ok(t, r, ['network', 'connect', 'bnet', 'y']);
  const p1 = resolverOf(r, 'bnet');
  t.true(running(p1));
  t.deepEqual(await nameservers(t, r, 'y'), ['10.99.72.1']);
  await ok(t, r, ['stop', '-t', '1', 'y']);
  t.false(running(p1), 'bnet resolver runs after stop of its only user');
  t.deepEqual(dnsFiles(r, 'bnet'), []);
  await ok(t, r, ['start', 'y']);
  const p2 = resolverOf(r, 'bnet');
  t.true(running(p2), 'bnet resolver back after start');
  t.deepEqual(await nameservers(t, r, 'y'), ['10.99.72.1']);
  t.deepEqual(await resolve(r, 'y', 'y'), [await netIp(t, r, 'y', 'bnet')]);
  await ok(t, r, ['network', 'disconnect', 'bnet', 'y']);
  t.false(running(p2), 'bnet resolver runs after its only container was disconnected');
  t.deepEqual(dnsFiles(r, 'bnet'), []);
  t.false((await nameservers(t, r, 'y')).includes('10.99.72.1'));
  t.deepEqual(r.host.run(['ss', '-Hlntu', 'src', '10.99.72.1']).trim(), '');

  await ok(t, r, ['rm', '-f', 'y', 'z']);
  t.deepEqual(readdirSync(join(r.state, 'dns')), []);
  t.deepEqual(r.host.run(['ss', '-Hlntu', 'sport', '=', ':53']).trim(), '');
  // No nft element is left that names one of them (portmap, the masquerade and the no-icc ports tag their owner).
  const ruleset = r.host.run(['/usr/sbin/nft', 'list', 'ruleset']);
  for (const id of ids) t.false(ruleset.includes(id.slice(0, 12)), `nft still names ${id}`);
  t.false(/10\.99\.7[123]\.(?!0\/|1\b)\d+/.test(ruleset), ruleset);
});

test.serial('tscni boot after a simulated reboot brings back the resolver of a network its containers were only connected to', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'db');
  writeConf(r, '20-tnet.conflist', testNetwork(r, 'tnet', 'tscnitbt', '10.99.75.0/24'));
  writeConf(r, '21-bnet.conflist', { ...testNetwork(r, 'bnet', 'tscnitbb', '10.99.76.0/24'), tscni: { dns: true } });
  r.env.TSCNI_DNS_UPSTREAM = '10.99.75.254';
  const ids: string[] = [];
  for (const name of ['web', 'peer']) {
    ids.push((await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', name, '--restart', 'always', 'busybox', 'sleep', '300'])).stdout.trim());
    await ok(t, r, ['network', 'connect', ...(name === 'web' ? ['--alias', 'svc'] : []), 'bnet', name]);
  }
  const before = resolverOf(r, 'bnet');
  t.true(running(before));
  // The reboot: monitors, containers and the resolver die; netns, mounts, nft rules and bridges go.
  for (const id of ids) {
    process.kill(JSON.parse(readFileSync(join(r.state, 'containers', id, 'state.json'), 'utf8')).monitorPid, 'SIGKILL');
    spawnSync('runc', ['--root', join(r.state, 'runc'), 'kill', id, 'KILL']);
  }
  process.kill(before, 'SIGKILL');
  for (let i = 0; i < 100 && ids.some((id) => spawnSync('runc', ['--root', join(r.state, 'runc'), 'state', id], { encoding: 'utf8' }).stdout.includes('"running"')); i++) await new Promise((res) => setTimeout(res, 50));
  for (const m of mountsUnder(r.dir).reverse()) spawnSync('umount', ['-l', m]);
  for (const id of ids) spawnSync('ip', ['netns', 'del', id]);
  r.host.run(['/usr/sbin/nft', 'flush', 'ruleset']);
  for (const br of ['tscnitbt', 'tscnitbb']) r.host.run(['ip', 'link', 'del', br]);

  const boot = await r.tscni(['boot']);
  t.deepEqual([boot.code, boot.stdout.split('\n').sort()], [0, ['', 'peer', 'web']], boot.stderr);
  const after = resolverOf(r, 'bnet');
  t.not(after, before);
  t.true(running(after), 'bnet resolver back after boot');
  t.deepEqual(await nameservers(t, r, 'peer'), ['10.99.76.1']);
  t.deepEqual(await resolve(r, 'peer', 'svc'), [await netIp(t, r, 'web', 'bnet')]);
  await ok(t, r, ['rm', '-f', 'web', 'peer']);
  t.false(running(after));
  t.deepEqual(readdirSync(join(r.state, 'dns')), []);
});

test.serial('network create --ipv6 with a subnet per family: dual-stack containers reach and resolve each other over IPv6; bad subnets refused; nothing left', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'd6');
  for (const [args, stderr] of [
    [['--subnet', '10.99.91.0/24', '--subnet', '10.99.92.0/24'], 'invalid --subnet "10.99.92.0/24": one IPv4 subnet per network (a second --subnet is for the other family)'],
    [['--ipv6', '--subnet', '10.99.91.0/24'], 'network create --ipv6: give the IPv6 subnet too (--subnet fd00:43::/64; tscni has no pool to pick one from)'],
    [['--subnet', '10.99.91.0/24', '--subnet', 'fd99:91::7/64'], 'invalid --subnet "fd99:91::7/64": host bits set (it should be fd99:91::/64)'],
    [['--subnet', '10.99.91.0/24', '--gateway', 'fd99:91::1'], 'invalid --gateway "fd99:91::1": no IPv6 --subnet to put it in'],
  ] as [string[], string][]) {
    t.deepEqual(await r.tscni(['network', 'create', ...args, 'bad']), { code: 2, stdout: '', stderr: `tscni: ${stderr}\n` }, args.join(' '));
  }
  t.false(existsSync(join(r.netconf, '20-bad.conflist')));
  await ok(t, r, ['network', 'create', '--ipv6', '--subnet', '10.99.93.0/24', '--subnet', 'fd99:93::/64', '--gateway', 'fd99:93::fe', '--bridge', 'tscnitd6', 'dual']);
  const ls = JSON.parse((await ok(t, r, ['network', 'ls', '--json'])).stdout).find((n: any) => n.name === 'dual');
  t.deepEqual(ls.subnets, ['10.99.93.0/24', 'fd99:93::/64']);
  await ok(t, r, ['run', '-d', '--network', 'dual', '--name', 'web', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
  await ok(t, r, ['run', '-d', '--network', 'dual', '--name', 'cli', 'busybox', 'sleep', '120']);
  const web = JSON.parse((await ok(t, r, ['inspect', 'web'])).stdout)[0].NetworkSettings;
  t.regex(web.IPAddress, /^10\.99\.93\.\d+$/);
  t.regex(web.GlobalIPv6Address, /^fd99:93::[0-9a-f]+$/);
  t.is(web.IPv6Gateway, 'fd99:93::fe');
  t.deepEqual(await nameservers(t, r, 'cli'), ['10.99.93.1', 'fd99:93::fe']);
  t.deepEqual(await resolve(r, 'cli', 'web', 'aaaa'), [web.GlobalIPv6Address]);
  t.deepEqual(await resolve(r, 'cli', 'web'), [web.IPAddress]);
  t.true((await ok(t, r, ['exec', 'cli', 'wget', '-qO-', `http://[${web.GlobalIPv6Address}]/`])).stdout.includes('Hello from busybox httpd'));
  t.is((await r.tscni(['exec', 'cli', 'ping', '-6', '-c1', '-W2', 'fd99:93::fe'])).code, 0, 'the IPv6 gateway answers');
  await ok(t, r, ['rm', '-f', 'web', 'cli']);
  await ok(t, r, ['network', 'rm', 'dual']);
  t.false(existsSync(join(r.netconf, '20-dual.conflist')));
  t.is(r.host.run(['ip', '-o', 'link', 'show', 'type', 'veth']).trim(), '');
});
