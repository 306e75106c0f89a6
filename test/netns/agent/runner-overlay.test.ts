// The runner's overlay networks across two simulated hosts: each a private netns with its own runner state dir and
// NETCONFPATH, joined by a LAN bridge in a third netns. On each host `tscni network create --driver overlay` writes the
// conflist and the peers file and starts the agent; a busybox container on host A reaches the one on host B over
// TCP and ping with its own address (seen by the other side: httpd's CGI REMOTE_ADDR, the receiving host's conntrack);
// with vxlan the pods are dual stack (a --subnet per family) and reach each other over IPv6 too. `tscni boot`
// restarts a killed agent, and `network rm` removes the agent, its routes/VXLAN device and its files.
// Bad input is refused with exit 2 and leaves nothing behind.

import test, { type ExecutionContext } from 'ava';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { makeNetns, requireRoot } from '../../helpers/netns.ts';
import { makeRunnerEnv, type Outcome, type RunnerEnv } from '../../e2e/runner/harness.ts';
import { NFT } from '../bridge/fixture.ts';
import { within } from './cluster.ts';

/**
 * tscni inside the host's netns (the harness's `nsenter --net`): `ip netns exec` would do for the network verbs, but
 * it also remounts /sys in a mount namespace of its own, where runc finds no cgroup mount.
 */
const x = (r: RunnerEnv, args: string[]): Promise<Outcome> => r.tscni(args);

async function ok(t: ExecutionContext, r: RunnerEnv, args: string[]): Promise<string> {
  const o = await x(r, args);
  if (o.code !== 0) t.fail(`tscni ${args.join(' ')} exited ${o.code}: ${o.stderr}`);
  return o.stdout;
}

const agentPidOf = (r: RunnerEnv, net: string) => Number(readFileSync(join(r.state, 'overlay', net, 'agent.pid'), 'utf8'));
const running = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

interface Host { r: RunnerEnv; name: string; addr: string; cidr: string; cidr6: string; net: string }

/** Two hosts on a LAN; the agents they start are killed at teardown whatever happened (before their netns go). */
function makeHosts(t: ExecutionContext): Host[] {
  const lan = makeNetns(t, 'lan');
  lan.run(['ip', 'link', 'add', 'lan0', 'type', 'bridge']);
  lan.run(['ip', 'link', 'set', 'lan0', 'up']);
  const tag = randomBytes(2).toString('hex');
  const hosts = ['a', 'b'].map((h, i) => {
    const r = makeRunnerEnv(t, `ov${h}`);
    lan.run(['ip', 'link', 'add', `port${h}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', r.host.name]);
    lan.run(['ip', 'link', 'set', `port${h}`, 'master', 'lan0']);
    lan.run(['ip', 'link', 'set', `port${h}`, 'up']);
    const addr = `192.168.60.${i + 1}`;
    r.host.run(['ip', 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    r.host.run(['ip', 'link', 'set', 'eth0', 'up']);
    // Two names: host-local keeps leases under /var/lib/cni/networks/<network>, shared by the two simulated hosts.
    return { r, name: `host${h}`, addr, cidr: `10.244.${i + 1}.0/24`, cidr6: `fd00:244:${i + 1}::/64`, net: `ov${h}${tag}` };
  });
  t.teardown(() => {
    for (const h of hosts) {
      for (const net of existsSync(join(h.r.state, 'overlay')) ? readdirSync(join(h.r.state, 'overlay')) : []) {
        try { process.kill(agentPidOf(h.r, net), 'SIGKILL'); } catch { /* gone */ }
      }
      rmSync(`/var/lib/cni/networks/${h.net}`, { recursive: true, force: true });
    }
  });
  return hosts;
}

const other = (hosts: Host[], h: Host) => hosts.find((o) => o !== h)!;
/** vxlan: dual-stack pods (a --subnet per family) over the IPv4 LAN; host-gw: IPv4 (its next hops are the LAN's). */
const createArgs = (hosts: Host[], h: Host, backend: string) => {
  const o = other(hosts, h);
  const dual = backend === 'vxlan';
  return ['network', 'create', '--driver', 'overlay', '--subnet', h.cidr, ...(dual ? ['--subnet', h.cidr6] : []), '--opt', `backend=${backend}`, '--opt', `node=${h.name}`, '--opt', `address=${h.addr}`, '--peer', `${o.name}=${o.addr},${o.cidr}${dual ? `,${o.cidr6}` : ''}`, h.net];
};

// Each container answers GET /cgi-bin/ip with the address its TCP peer came from.
const CGI = 'mkdir -p /www/cgi-bin && printf "#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho \\$REMOTE_ADDR\\n" >/www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && exec httpd -f -p 80 -h /www';

const owned = (h: Host) => ({
  routes: h.r.host.run(['ip', 'route', 'show', 'proto', '126']).trim(),
  routes6: h.r.host.run(['ip', '-6', 'route', 'show', 'proto', '126']).trim(),
  vxlan: h.r.host.try(['ip', 'link', 'show', 'tscni.vxlan']).status === 0,
  nomasq: JSON.stringify(JSON.parse(h.r.host.try([NFT, '-j', 'list', 'set', 'inet', 'tscni_bridge', 'nomasq4']).stdout || '{"nftables":[]}').nftables[1]?.set?.elem ?? []),
});

for (const backend of ['vxlan', 'host-gw']) {
  test.serial(`network create --driver overlay (${backend}): containers on two hosts reach each other with their own addresses; network rm leaves nothing`, async (t) => {
    if (!requireRoot(t)) return;
    const hosts = makeHosts(t);
    const [a, b] = hosts;
    for (const h of hosts) {
      t.regex(await ok(t, h.r, createArgs(hosts, h, backend)), new RegExp(`^${h.net} \\(.*; overlay ${backend}, 1 peer\\(s\\), agent pid \\d+\\)\\n$`));
    }
    const want = backend === 'vxlan'
      ? (o: Host) => `${o.cidr} via ${o.cidr.split('/')[0]} dev tscni.vxlan onlink`
      : (o: Host) => `${o.cidr} via ${o.addr} dev eth0`;
    for (const h of hosts) t.is(owned(h).routes, want(other(hosts, h)), `${h.name}: the agent's route to the other host's CIDR`);
    for (const h of hosts) t.is(owned(h).vxlan, backend === 'vxlan');
    const want6 = (o: Host) => (backend === 'vxlan' ? `${o.cidr6} via ${o.cidr6.split('/')[0]} dev tscni.vxlan metric 1024 onlink pref medium` : '');
    for (const h of hosts) t.is(owned(h).routes6, want6(other(hosts, h)), `${h.name}: the agent's IPv6 route`);

    const ip: Record<string, string> = {};
    const ip6: Record<string, string> = {};
    for (const h of hosts) {
      await ok(t, h.r, ['run', '-d', '--network', h.net, '--name', 'c', 'busybox', 'sh', '-c', CGI]);
      const ns = JSON.parse(await ok(t, h.r, ['inspect', 'c']))[0].NetworkSettings;
      [ip[h.name], ip6[h.name]] = [ns.IPAddress, ns.GlobalIPv6Address];
      t.is(ip[h.name], `${h.cidr.split('.').slice(0, 3).join('.')}.2`);
      t.is(ip6[h.name], backend === 'vxlan' ? `${h.cidr6.split('/')[0]}2` : '');
    }
    /** What httpd on `to` saw as the peer of a GET from `from`'s container to `addr` ('' if none got through). */
    const seenFrom = async (from: Host, addr: string) => {
      let seen = '';
      for (let i = 0; i < 20 && !seen; i++) {
        // (busybox's `wget -T` crashes here; `timeout` bounds it instead.) httpd gives REMOTE_ADDR as [::ffff:a.b.c.d].
        const o = await x(from.r, ['exec', 'c', 'timeout', '5', 'wget', '-qO-', `http://${addr.includes(':') ? `[${addr}]` : addr}/cgi-bin/ip`]);
        seen = o.code === 0 ? o.stdout.trim().replace(/^\[(::ffff:)?|\]$/g, '') : '';
      }
      return seen;
    };
    for (const [from, to] of [[a, b], [b, a]]) {
      t.is(await seenFrom(from, ip[to.name]), ip[from.name], `${from.name} → ${to.name}: httpd on ${to.name} sees the container's own address`);
      if (backend === 'vxlan') t.is(await seenFrom(from, ip6[to.name]), ip6[from.name], `${from.name} → ${to.name} over IPv6, with the container's own address`);
      to.r.host.try(['conntrack', '-D', '-p', 'icmp']);
      let pinged = false;
      for (let i = 0; i < 10 && !pinged; i++) pinged = (await x(from.r, ['exec', 'c', 'ping', '-c1', '-W1', ip[to.name]])).code === 0;
      t.true(pinged, `${from.name} pings ${to.name}`);
      t.regex(to.r.host.run(['conntrack', '-L', '-p', 'icmp']), new RegExp(`src=${ip[from.name].replace(/\./g, '\\.')} dst=${ip[to.name].replace(/\./g, '\\.')} `), `${to.name} saw the ping from the container's own address`);
    }

    // inspect: the peers and the agent
    const ins = JSON.parse(await ok(t, a.r, ['network', 'inspect', a.net]));
    t.is(ins.Driver, 'overlay');
    t.deepEqual([ins.Overlay.Backend, ins.Overlay.Node, ins.Overlay.Agent.Running], [backend, 'hosta', true]);
    const cidrs = (h: Host) => (backend === 'vxlan' ? [h.cidr, h.cidr6] : [h.cidr]);
    t.deepEqual(ins.Overlay.Peers.map((p: any) => [p.Name, p.Addresses, p.CIDRs, p.State]), [['hosta', [a.addr], cidrs(a), 'self'], ['hostb', [b.addr], cidrs(b), 'synced']]);

    // a reboot-like loss of the agent: tscni boot starts it again, the kernel entries stay as they were
    const before = owned(a);
    const pid = agentPidOf(a.r, a.net);
    process.kill(pid, 'SIGKILL');
    await within(3000, 'the agent is gone', () => !running(pid));
    t.regex(await ok(t, a.r, ['boot']), new RegExp(`^network ${a.net}: overlay agent started\\n`));
    t.not(agentPidOf(a.r, a.net), pid);
    t.true(running(agentPidOf(a.r, a.net)));
    t.deepEqual(owned(a), before);

    // network rm: refused while the container runs, then the agent, its entries and files go
    t.is((await x(a.r, ['network', 'rm', a.net])).code, 4);
    for (const h of hosts) {
      const agent = agentPidOf(h.r, h.net);
      await ok(t, h.r, ['rm', '-f', 'c']);
      t.is(await ok(t, h.r, ['network', 'rm', h.net]), `${h.net}\n`);
      t.false(running(agent), `${h.name}: agent stopped`);
      t.deepEqual(owned(h), { routes: '', routes6: '', vxlan: false, nomasq: '[]' });
      t.false(existsSync(join(h.r.state, 'overlay', h.net)));
      t.deepEqual(readdirSync(h.r.netconf), []);
    }
  });
}

test.serial('network create --driver overlay: bad input is refused with exit 2, naming the flag and value, and leaves nothing', async (t) => {
  if (!requireRoot(t)) return;
  const [a] = makeHosts(t);
  const base = ['network', 'create', '--driver', 'overlay', '--subnet', '10.244.1.0/24', '--opt', 'node=hosta', '--opt', 'address=192.168.60.1'];
  const cases: [string[], string][] = [
    [['--peer', 'hostb=192.168.60.2'], 'tscni: invalid --peer "hostb=192.168.60.2": no CIDR for peer "hostb" (expected NAME=ADDR,CIDR)\n'],
    [['--peer', 'hostb=192.168.60.2,10.244.0.0/16'], 'tscni: network create --driver overlay: --peer "hostb=192.168.60.2,10.244.0.0/16" (CIDR) "10.244.0.0/16": overlaps --subnet (hosta) "10.244.1.0/24"\n'],
    [['--peer', 'hostb=192.168.60.2,10.244.2.0/24', '--opt', 'vni=16777216'], 'tscni: network create --driver overlay: --opt vni 16777216: must be an integer 1-16777215\n'],
    [['--peer', 'hostb=hostb.lan,10.244.2.0/24'], 'tscni: invalid --peer "hostb=hostb.lan,10.244.2.0/24": address "hostb.lan" is not an IP address\n'],
  ];
  const before = a.r.host.run(['ip', '-j', 'route']) + a.r.host.run(['ip', '-j', 'link']);
  for (const [extra, msg] of cases) {
    const o = await x(a.r, [...base, ...extra, 'ov']);
    t.deepEqual([o.code, o.stderr], [2, msg]);
  }
  // the underlay address on no link of this host: the agent refuses it, and create undoes everything
  const o = await x(a.r, ['network', 'create', '--driver', 'overlay', '--subnet', '10.244.1.0/24', '--opt', 'node=hosta', '--opt', 'address=192.168.77.1', '--peer', 'hostb=192.168.60.2,10.244.2.0/24', 'ov']);
  t.is(o.code, 1);
  t.regex(o.stderr, /the overlay agent did not sync: .*peers\[\]\.address "192\.168\.77\.1" of node "hosta": not on any link here/);
  t.deepEqual(readdirSync(a.r.netconf), []);
  t.false(existsSync(join(a.r.state, 'overlay')) && readdirSync(join(a.r.state, 'overlay')).length > 0);
  t.is(a.r.host.run(['ip', '-j', 'route']) + a.r.host.run(['ip', '-j', 'link']), before);
  t.is(a.r.host.try(['pgrep', '-f', join(a.r.state, 'overlay')]).stdout.trim(), '');
});
