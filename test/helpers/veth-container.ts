// A container fixture without any tscni plugin: a private host netns with a bridge, veth containers, an "outside host".

import { spawn, type ChildProcess } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import ipaddr from 'ipaddr.js';
import { makeNetns, type TestNetns } from './netns.ts';

export const BRIDGE = 'br0';
export const GW4 = '10.88.0.1';
export const GW6 = 'fd88::1';
/** The host's address toward the outside host, and the outside host's own. */
export const HOST4 = '192.168.77.1';
export const HOST6 = 'fd77::1';
export const OUT4 = '192.168.77.2';
export const OUT6 = 'fd77::2';

export interface Container {
  ns: TestNetns;
  id: string;
  v4: string;
  v6: string;
  /** The prevResult a bridge + host-local chain would have produced for this container. */
  prevResult: Record<string, unknown>;
}

export interface BridgeHost {
  host: TestNetns;
  outside: TestNetns;
  addContainer(n: number, opts?: { v6?: boolean }): Container;
}

/**
 * host: br0 10.88.0.1/24 + fd88::1/64, forwarding on, veth `vo` 192.168.77.1/24 + fd77::1/64 to `outside`
 * (192.168.77.2, fd77::2, default routes back through the host). Containers: veth `vc<n>` on br0 (hairpin on, as a
 * bridge plugin with hairpinMode sets it), eth0 10.88.0.<n>/24 + fd88::<n>/64, default routes via the bridge.
 */
export function makeBridgeHost(t: ExecutionContext): BridgeHost {
  const host = makeNetns(t, 'pmh');
  const outside = makeNetns(t, 'pmo');
  host.run(['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  // No multicast snooping: IPv6 neighbour solicitations must reach a container whose MLD report the bridge missed.
  // A fixed MAC, as the bridge plugin pins it: otherwise the bridge takes its lowest port MAC, and a container
  // joining later with a lower one changes it under the neighbours' caches (the first flows then vanish).
  host.run(['ip', 'link', 'add', BRIDGE, 'address', '02:00:0a:58:00:01', 'type', 'bridge', 'mcast_snooping', '0']);
  host.run(['ip', 'addr', 'add', `${GW4}/24`, 'dev', BRIDGE]);
  host.run(['ip', 'addr', 'add', `${GW6}/64`, 'dev', BRIDGE, 'nodad']);
  host.run(['ip', 'link', 'set', BRIDGE, 'up']);
  host.run(['ip', 'link', 'add', 'vo', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside.name]);
  host.run(['ip', 'addr', 'add', `${HOST4}/24`, 'dev', 'vo']);
  host.run(['ip', 'addr', 'add', `${HOST6}/64`, 'dev', 'vo', 'nodad']);
  host.run(['ip', 'link', 'set', 'vo', 'up']);
  outside.run(['ip', 'addr', 'add', `${OUT4}/24`, 'dev', 'eth0']);
  outside.run(['ip', 'addr', 'add', `${OUT6}/64`, 'dev', 'eth0', 'nodad']);
  outside.run(['ip', 'link', 'set', 'eth0', 'up']);
  outside.run(['ip', 'route', 'add', 'default', 'via', HOST4]);
  outside.run(['ip', '-6', 'route', 'add', 'default', 'via', HOST6]);
  outside.try(['ping', '-c1', '-W2', HOST4]);
  outside.try(['ping', '-c1', '-W2', HOST6]);
  return {
    host,
    outside,
    addContainer(n, opts = {}) {
      const ns = makeNetns(t, `pmc${n}`);
      const v4 = `10.88.0.${n}`;
      const v6 = `fd88::${n}`;
      const hostSide = `vc${n}`;
      host.run(['ip', 'link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
      host.run(['ip', 'link', 'set', hostSide, 'master', BRIDGE, 'up']);
      host.run(['bridge', 'link', 'set', 'dev', hostSide, 'hairpin', 'on']);
      ns.run(['ip', 'addr', 'add', `${v4}/24`, 'dev', 'eth0']);
      if (opts.v6 !== false) ns.run(['ip', 'addr', 'add', `${v6}/64`, 'dev', 'eth0', 'nodad']);
      ns.run(['ip', 'link', 'set', 'eth0', 'up']);
      ns.run(['ip', 'route', 'add', 'default', 'via', GW4]);
      if (opts.v6 !== false) ns.run(['ip', '-6', 'route', 'add', 'default', 'via', GW6]);
      // Settle neighbour discovery both ways now, so the first published-port flow is not lost to it.
      ns.try(['ping', '-c1', '-W2', GW4]);
      if (opts.v6 !== false) ns.try(['ping', '-c1', '-W2', GW6]);
      host.try(['ping', '-c1', '-W2', v4]);
      if (opts.v6 !== false) host.try(['ping', '-c1', '-W2', v6]);
      const ips: Record<string, unknown>[] = [{ address: `${v4}/24`, gateway: GW4, interface: 2 }];
      if (opts.v6 !== false) ips.push({ address: `${v6}/64`, gateway: GW6, interface: 2 });
      const prevResult = {
        cniVersion: '1.1.0',
        interfaces: [{ name: BRIDGE }, { name: hostSide }, { name: 'eth0', sandbox: ns.path }],
        ips,
      };
      return { ns, id: `ctr-${n}`, v4, v6, prevResult };
    },
  };
}

/**
 * Starts socat servers in `ns` that answer every TCP connection and UDP datagram on `port` with
 * `<tag> <local address>` (the address the flow landed on after DNAT), on IPv4 and IPv6. Stopped at teardown.
 */
export async function serve(t: ExecutionContext, ns: TestNetns, port: number, tag: string): Promise<void> {
  const specs = [
    [`TCP4-LISTEN:${port},fork,reuseaddr`, `SYSTEM:echo ${tag} $SOCAT_SOCKADDR`],
    [`TCP6-LISTEN:${port},fork,reuseaddr,ipv6only=1`, `SYSTEM:echo ${tag} $SOCAT_SOCKADDR`],
    [`UDP4-RECVFROM:${port},fork,ip-pktinfo`, `SYSTEM:echo ${tag} $SOCAT_IP_DSTADDR`],
    [`UDP6-RECVFROM:${port},fork,ipv6only=1,ipv6-recvpktinfo`, `SYSTEM:echo ${tag} $SOCAT_IPV6_DSTADDR`],
  ];
  // `timeout` bounds the servers' life even if a timed-out test never reaches its teardown.
  const kids: ChildProcess[] = specs.map((argv) => spawn('ip', ['netns', 'exec', ns.name, 'timeout', '600', 'socat', ...argv], { stdio: 'ignore', detached: true }));
  t.teardown(() => {
    for (const k of kids) if (k.pid) try { process.kill(-k.pid, 'SIGKILL'); } catch { /* already gone */ }
  });
  for (let i = 0; i < 50; i++) {
    const tcp = ns.try(['ss', '-Hltn', `sport = :${port}`]).stdout.trim().split('\n').filter(Boolean).length;
    const udp = ns.try(['ss', '-Hlun', `sport = :${port}`]).stdout.trim().split('\n').filter(Boolean).length;
    if (tcp >= 2 && udp >= 2) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`socat servers on port ${port} in ${ns.name} did not start`);
}

/** What serve() answers for a flow that landed on `addr` (socat prints IPv6 addresses bracketed and unabbreviated). */
export function answer(tag: string, addr: string): string {
  return addr.includes(':') ? `${tag} [${ipaddr.IPv6.parse(addr).parts.map((p) => p.toString(16).padStart(4, '0')).join(':')}]` : `${tag} ${addr}`;
}

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

// socat waits only -t (0.5 s by default) for an answer once its stdin is done; give a loaded machine 3 s.

/** A TCP client in `ns`: the server's one-line answer, or '' when the connection fails (2 s connect timeout). */
export function tcp(ns: TestNetns, ip: string, port: number): string {
  const r = ns.try(['socat', '-t3', '-T3', '-', `TCP:${hostPort(ip, port)},connect-timeout=2`], '');
  return r.status === 0 ? r.stdout.trim() : '';
}

/**
 * A UDP client in `ns`: sends a datagram and returns the answer, or '' after 5 s of silence. Like any UDP client
 * (DNS, say) it sends twice more before giving up, from the same source port when one is given: a forked socat
 * server answering through a shell missed 3 s windows on a machine loaded by parallel jobs (the CI run with the
 * e2e clients next to it).
 */
export function udp(ns: TestNetns, ip: string, port: number, sourcePort?: number): string {
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = ns.try(['socat', '-t5', '-T5', '-', `UDP:${hostPort(ip, port)}${sourcePort ? `,sourceport=${sourcePort},reuseaddr` : ''}`], 'ping\n');
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return '';
}
