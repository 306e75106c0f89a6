// Simulated nodes for the agent's kernel tests: each node a private netns with tscni's bridge plugin (from dist/bin)
// serving one pod, nodes joined by a LAN bridge (host-gw) or across a router (vxlan), `tscni agent` running inside
// each node's netns, and socat servers in the pods that answer with the peer address they saw.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import ipaddr from 'ipaddr.js';
import { callPlugin, DIST_BIN } from '../../helpers/plugin.ts';
import { makeNetns, type TestNetns } from '../../helpers/netns.ts';
import { scaled } from '../../helpers/time-scale.ts';

export const TSCNI = join(DIST_BIN, 'tscni');
export const PORT = 7000;

export interface SimNode { name: string; ns: TestNetns; pod: TestNetns; addr: string; pod4: string; pod6: string; cidrs: string[] }
export interface Cluster {
  nodes: SimNode[];
  /** The netns outside the cluster (LAN bridge or router) with a server at `outsideAddr`. */
  outside: TestNetns;
  outsideAddr: string;
  dir: string;
  backend: 'host-gw' | 'vxlan';
  writePeers(nodes: SimNode[], extra?: Record<string, unknown>): void;
  /** Starts `tscni agent` in the node's netns (the peers file unless `config` names another; extra `env`). */
  startAgent(node: SimNode, opts?: { config?: string; env?: Record<string, string> }): ChildProcess;
  agents: Map<string, ChildProcess>;
  status(node: SimNode): any;
}

const n6 = (n: SimNode) => n.name.slice(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `ok` every 50 ms for at most `ms` (scaled: test/helpers/time-scale.ts); returns the time it took, or throws. */
export async function within(bound: number, what: string, ok: () => boolean): Promise<number> {
  const ms = scaled(bound);
  const start = Date.now();
  for (;;) {
    if (ok()) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
}

/** The agents' own record of when they applied a change (checked after the fact: polling with `ip` is slower). */
export async function appliedWithin1s(t: ExecutionContext, c: Cluster, nodes: SimNode[], since: number): Promise<void> {
  for (const n of nodes) {
    // The kernel shows the entries a moment before the pass ends and the status file is written.
    await within(3000, `${n.name} records a change`, () => Date.parse(c.status(n)?.lastChange ?? '') >= since);
    const took = Date.parse(c.status(n).lastChange) - since;
    t.true(took <= scaled(1000), `${n.name} applied the change ${took} ms after the file changed`);
  }
}

function serve(t: ExecutionContext, ns: TestNetns, procs: ChildProcess[]): void {
  for (const listen of [`TCP4-LISTEN:${PORT},fork,reuseaddr`, `TCP6-LISTEN:${PORT},fork,reuseaddr,ipv6only=1`]) {
    procs.push(spawn('ip', ['netns', 'exec', ns.name, 'socat', listen, 'SYSTEM:echo $SOCAT_PEERADDR'], { stdio: 'ignore' }));
  }
}

/**
 * The source address a TCP connection from `from` to `ip` arrives with, as the server saw it ('' when it failed).
 * Up to three tries: the first flow over fresh routes waits for neighbour discovery on every hop (IPv6 on a loaded
 * machine missed one 2 s window).
 */
export function seenSource(from: TestNetns, ip: string): string {
  const target = ip.includes(':') ? `TCP6:[${ip}]:${PORT}` : `TCP4:${ip}:${PORT}`;
  let seen = '';
  for (let attempt = 0; attempt < 3 && !seen; attempt++) {
    seen = from.try(['socat', '-T2', '-', `${target},connect-timeout=2`], '').stdout.trim().replace(/^\[|\]$/g, '');
  }
  return ipaddr.isValid(seen) ? ipaddr.parse(seen).toString() : seen; // socat prints IPv6 unabbreviated
}

export const pings = (from: TestNetns, ip: string) => from.try(['ping', '-c1', '-W1', ip]).status === 0;

/** host-gw: a LAN. vxlan: across a router, or with `underlay6` on a LAN with each node's IPv6 address first. */
export async function makeCluster(t: ExecutionContext, backend: 'host-gw' | 'vxlan', opts: { underlay6?: boolean } = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tscni-agent-'));
  const procs: ChildProcess[] = [];
  const agents = new Map<string, ChildProcess>();
  const outside = makeNetns(t, 'out');
  const routed = backend === 'vxlan' && !opts.underlay6;
  outside.run(['sysctl', '-qw', routed ? 'net.ipv4.ip_forward=1' : 'net.ipv4.ip_forward=0']);
  if (!routed) {
    outside.run(['ip', 'link', 'add', 'lan0', 'type', 'bridge']);
    outside.run(['ip', 'addr', 'add', '192.168.50.254/24', 'dev', 'lan0']);
    outside.run(['ip', 'link', 'set', 'lan0', 'up']);
  }
  const nodes: SimNode[] = [];
  for (const i of [1, 2, 3]) {
    const ns = makeNetns(t, `n${i}`);
    const pod = makeNetns(t, `p${i}`);
    outside.run(['ip', 'link', 'add', `port${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
    const addr = routed ? `172.16.${i}.2` : `192.168.50.1${i}`;
    if (routed) outside.run(['ip', 'addr', 'add', `172.16.${i}.1/24`, 'dev', `port${i}`]);
    else outside.run(['ip', 'link', 'set', `port${i}`, 'master', 'lan0']);
    outside.run(['ip', 'link', 'set', `port${i}`, 'up']);
    ns.run(['ip', 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    ns.run(['ip', 'link', 'set', 'eth0', 'up']);
    if (routed) ns.run(['ip', 'route', 'add', 'default', 'via', `172.16.${i}.1`]);
    if (!routed) ns.run(['ip', 'addr', 'add', `fd00:50::1${i}/64`, 'dev', 'eth0', 'nodad']);
    ns.run(['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    const cidrs = [`10.244.${i}.0/24`, `fd00:244:${i}::/64`];
    const conf = {
      cniVersion: '1.1.0', name: 'mh', type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: true,
      ipam: { type: 'host-local', dataDir: join(dir, `ipam-n${i}`), ranges: [[{ subnet: cidrs[0] }], [{ subnet: cidrs[1] }]], routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }] },
    };
    const r = await callPlugin('bridge', { command: 'ADD', containerId: `pod${i}`, netns: pod.path, ifname: 'eth0' }, conf, { hostNetns: ns.name });
    if (r.code !== 0) throw new Error(`bridge ADD on n${i}: ${r.stdout}${r.stderr}`);
    serve(t, pod, procs);
    nodes.push({ name: `n${i}`, ns, pod, addr, pod4: `10.244.${i}.2`, pod6: `fd00:244:${i}::2`, cidrs });
  }
  serve(t, outside, procs);
  t.teardown(() => {
    for (const p of [...procs, ...agents.values()]) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const peersFile = join(dir, 'peers.json');
  const c: Cluster = {
    nodes, outside, outsideAddr: routed ? '172.16.1.1' : '192.168.50.254', dir, backend, agents,
    writePeers(list, extra = {}) {
      const peers = list.map((n) => ({ name: n.name, address: routed ? n.addr : opts.underlay6 ? [`fd00:50::1${n6(n)}`, n.addr] : [n.addr, `fd00:50::1${n6(n)}`], podCIDRs: n.cidrs }));
      writeFileSync(`${peersFile}.tmp`, JSON.stringify({ backend, peers, ...extra }));
      renameSync(`${peersFile}.tmp`, peersFile);
    },
    startAgent(node, opts = {}) {
      const argv = ['netns', 'exec', node.ns.name, TSCNI, 'agent', '--config', opts.config ?? peersFile, '--node', node.name, '--state-dir', join(dir, `state-${node.name}`)];
      const p = spawn('ip', argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...opts.env } });
      p.stderr!.setEncoding('utf8');
      let log = '';
      p.stderr!.on('data', (d) => (log += d));
      p.on('exit', (code, sig) => { if (sig !== 'SIGKILL' && code !== 0) t.log(`agent ${node.name} exited ${code}: ${log}`); });
      agents.set(node.name, p);
      return p;
    },
    status(node) {
      try {
        return JSON.parse(readFileSync(join(dir, `state-${node.name}`, 'status.json'), 'utf8'));
      } catch {
        return undefined;
      }
    },
  };
  await sleep(100); // the socat servers bind
  return c;
}

/** What the agent owns in a node's netns, as `ip`/`bridge` print it (routes listed by `proto 126`, so that word is not shown). */
export function owned(n: SimNode): { routes: string[]; neigh: string[]; fdb: string[] } {
  const routes = [4, 6].flatMap((f) => n.ns.run(['ip', `-${f}`, 'route', 'show', 'proto', '126']).split('\n').map((l) => l.trim()).filter(Boolean));
  const hasVxlan = n.ns.try(['ip', 'link', 'show', 'tscni.vxlan']).status === 0;
  const neigh = hasVxlan ? n.ns.run(['ip', 'neigh', 'show', 'dev', 'tscni.vxlan', 'nud', 'permanent']).split('\n').map((l) => l.trim()).filter(Boolean) : [];
  const fdb = hasVxlan ? n.ns.run(['bridge', 'fdb', 'show', 'dev', 'tscni.vxlan']).split('\n').map((l) => l.trim()).filter(Boolean) : [];
  return { routes: routes.sort(), neigh: neigh.sort(), fdb: fdb.sort() };
}
