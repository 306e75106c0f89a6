// Multi-node benchmark (issue 13): pod-to-pod TCP throughput and latency (same node, host-gw, vxlan) across
// simulated nodes, and `tscni agent`'s sync time for 100 and 1,000 simulated peers (host-gw and vxlan), with the
// per-change cost. Everything runs in network namespaces this script creates (named `tscni-mh-<run>-...`) and
// always removes (on exit, on an error, on SIGINT/SIGTERM). Run as root: `sudo node bench/multinode/main.ts`.
// Needs dist/bin (npm run build) and Debian's iperf3, iproute2 and iputils-ping.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callPlugin, DIST_BIN } from '../../test/helpers/plugin.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TSCNI = join(DIST_BIN, 'tscni');
const RUN = randomBytes(3).toString('hex');
const DIR = mkdtempSync(join(tmpdir(), 'tscni-mh-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- cleanup: every netns and child this run made, whatever happens ----
const namespaces: string[] = [];
const children = new Set<ChildProcess>();
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) c.kill('SIGKILL');
  for (const ns of namespaces.reverse()) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(DIR, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { cleanup(); process.exit(130); });

interface Netns { name: string; path: string; run(argv: string[]): string; try(argv: string[]): { status: number; stdout: string } }
function netns(role: string): Netns {
  const name = `tscni-mh-${RUN}-${role}`;
  namespaces.push(name);
  const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
  const ns: Netns = {
    name, path: `/var/run/netns/${name}`,
    run(argv) {
      const x = spawnSync('ip', ['netns', 'exec', name, ...argv], { encoding: 'utf8', timeout: 120_000 });
      if (x.status !== 0) throw new Error(`${name}: ${argv.join(' ')}: exit ${x.status}: ${x.stderr}`);
      return x.stdout;
    },
    try(argv) {
      const x = spawnSync('ip', ['netns', 'exec', name, ...argv], { encoding: 'utf8', timeout: 120_000 });
      return { status: x.status ?? -1, stdout: x.stdout ?? '' };
    },
  };
  ns.run(['ip', 'link', 'set', 'lo', 'up']);
  return ns;
}
function bg(ns: Netns, argv: string[]): ChildProcess {
  const p = spawn('ip', ['netns', 'exec', ns.name, ...argv], { stdio: 'ignore' });
  children.add(p);
  p.on('exit', () => children.delete(p));
  return p;
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

// ---- part 1: throughput and latency between pods ----
interface Node { name: string; ns: Netns; addr: string; cidr: string; pods: { ns: Netns; ip: string }[] }

/** Two simulated nodes on a LAN bridge (own netns), each a private netns with tscni's bridge plugin and `pods`
 *  pods; `tscni agent --once` with `backend` in each node. Same idea as test/netns/agent/cluster.ts (IPv4 only). */
async function cluster(backend: 'host-gw' | 'vxlan', tag: string, net: number): Promise<Node[]> {
  const lan = netns(`${tag}-lan`);
  lan.run(['ip', 'link', 'add', 'lan0', 'type', 'bridge']);
  lan.run(['ip', 'link', 'set', 'lan0', 'up']);
  const nodes: Node[] = [];
  for (const i of [1, 2]) {
    const ns = netns(`${tag}-n${i}`);
    lan.run(['ip', 'link', 'add', `port${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
    lan.run(['ip', 'link', 'set', `port${i}`, 'master', 'lan0']);
    lan.run(['ip', 'link', 'set', `port${i}`, 'up']);
    const addr = `192.168.${net}.1${i}`;
    ns.run(['ip', 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    ns.run(['ip', 'link', 'set', 'eth0', 'up']);
    ns.run(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const cidr = `10.${net}.${i}.0/24`;
    const conf = { cniVersion: '1.1.0', name: 'mh', type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: false,
      ipam: { type: 'host-local', dataDir: join(DIR, `ipam-${tag}-n${i}`), ranges: [[{ subnet: cidr }]], routes: [{ dst: '0.0.0.0/0' }] } };
    const pods: Node['pods'] = [];
    for (let k = 0; k < (i === 1 ? 2 : 1); k++) {
      const pod = netns(`${tag}-p${i}${k}`);
      const r = await callPlugin('bridge', { command: 'ADD', containerId: `${tag}-pod${i}${k}`, netns: pod.path, ifname: 'eth0' }, conf, { hostNetns: ns.name });
      if (r.code !== 0) throw new Error(`bridge ADD on ${tag}-n${i}: ${r.stdout}${r.stderr}`);
      pods.push({ ns: pod, ip: r.json.ips[0].address.split('/')[0] });
    }
    nodes.push({ name: `n${i}`, ns, addr, cidr, pods });
  }
  const file = join(DIR, `peers-${tag}.json`);
  writeFileSync(file, JSON.stringify({ backend, peers: nodes.map((n) => ({ name: n.name, address: n.addr, podCIDRs: [n.cidr] })) }));
  for (const n of nodes) n.ns.run([TSCNI, 'agent', '--once', '--config', file, '--node', n.name, '--state-dir', join(DIR, `state-${tag}-${n.name}`)]);
  return nodes;
}

interface PathResult { path: string; gbps: number; retr: number; rttMs: number; loss: string }
async function measure(path: string, from: Netns, to: Netns, ip: string): Promise<PathResult> {
  const ping = from.run(['ping', '-c', '20', '-i', '0.2', '-W', '1', ip]);
  const rtts = [...ping.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  const loss = /(\d+(?:\.\d+)?)% packet loss/.exec(ping)?.[1] ?? '?';
  const server = bg(to, ['iperf3', '-s', '-1', '-B', ip]);
  await sleep(300);
  const out = JSON.parse(from.run(['iperf3', '-c', ip, '-t', '3', '-J']));
  server.kill('SIGKILL');
  return { path, gbps: out.end.sum_received.bits_per_second / 1e9, retr: out.end.sum_sent.retransmits ?? 0, rttMs: median(rtts), loss: `${loss}%` };
}

// ---- part 2: the agent's sync time for N simulated peers ----
interface SyncResult { backend: string; n: number; firstMs: number; changeMs: number[]; passMs: number[]; passKinds: string[]; onceNoopMs: number; onceChangeMs: number; routes: number; fdb: number; neigh: number; peersSynced: number }

const peerAddr = (i: number) => `172.20.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
const peerCidr = (i: number) => `10.${1 + Math.floor(i / 256)}.${i % 256}.0/24`;

async function syncBench(backend: 'host-gw' | 'vxlan', n: number, changes: number): Promise<SyncResult> {
  const tag = `s-${backend === 'vxlan' ? 'vx' : 'hg'}-${n}`;
  const ns = netns(tag);
  // a veth pair inside the node netns stands for its NIC (no dummy module on every kernel)
  ns.run(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'lan0']);
  ns.run(['ip', 'addr', 'add', '172.20.0.1/16', 'dev', 'eth0']);
  ns.run(['ip', 'link', 'set', 'lan0', 'up']);
  ns.run(['ip', 'link', 'set', 'eth0', 'up']);
  const file = join(DIR, `peers-${tag}.json`);
  const stateDir = join(DIR, `state-${tag}`);
  const self = { name: 'self', address: '172.20.0.1', podCIDRs: ['10.0.0.0/24'] };
  const peers = Array.from({ length: n }, (_, i) => ({ name: `peer${i}`, address: peerAddr(i), podCIDRs: [peerCidr(i)] }));
  const write = (list: unknown[]) => {
    writeFileSync(`${file}.tmp`, JSON.stringify({ node: 'self', backend, peers: list }));
    renameSync(`${file}.tmp`, file);
  };
  const status = () => { try { return JSON.parse(readFileSync(join(stateDir, 'status.json'), 'utf8')); } catch { return undefined; } };
  /** Waits (≤ 60 s) for a pass that changed something and ended at or after `since`; returns its end - since. */
  const applied = async (since: number, what: string) => {
    for (const end = Date.now() + 60_000; Date.now() < end; await sleep(10)) {
      const s = status();
      if (s?.lastSync?.error) throw new Error(`${tag}: ${what}: ${s.lastSync.error}`);
      const at = Date.parse(s?.lastChange ?? '');
      if (at >= since) return at - since;
    }
    throw new Error(`${tag}: ${what}: no pass within 60 s`);
  };
  write([self]);
  bg(ns, [TSCNI, 'agent', '--config', file, '--node', 'self', '--state-dir', stateDir]);
  for (const end = Date.now() + 30_000; !status()?.lastSync; await sleep(20)) if (Date.now() > end) throw new Error(`${tag}: the agent wrote no status`);
  await sleep(300);
  let t0 = Date.now();
  write([self, ...peers]);
  const firstMs = await applied(t0, `${n} peers`);
  const changeMs: number[] = [];
  const passMs: number[] = [];
  const passKinds: string[] = [];
  for (let c = 0; c < changes; c++) {
    await sleep(250);
    // one peer moves to another node address (host-gw: its route's gateway; vxlan: its FDB entry's dst)
    peers[c] = { ...peers[c], address: `172.20.250.${1 + c}` };
    t0 = Date.now();
    write([self, ...peers]);
    changeMs.push(await applied(t0, `change ${c + 1}`));
    // the pass itself, as the agent timed it (file read to status written), without the polling wait
    passMs.push(status().lastSync.ms);
    passKinds.push(status().lastSync.pass);
  }
  const count = (argv: string[]) => (JSON.parse(ns.try(argv).stdout || '[]') as unknown[]).length;
  const vx = backend === 'vxlan';
  const res: SyncResult = {
    backend, n, firstMs, changeMs, passMs, passKinds, onceNoopMs: 0, onceChangeMs: 0,
    routes: count(['ip', '-j', 'route', 'show', 'proto', '126']) + count(['ip', '-j', '-6', 'route', 'show', 'proto', '126']),
    fdb: vx ? count(['bridge', '-j', 'fdb', 'show', 'dev', 'tscni.vxlan']) : 0,
    neigh: vx ? count(['ip', '-j', 'neigh', 'show', 'dev', 'tscni.vxlan', 'nud', 'permanent']) : 0,
    peersSynced: (status()?.peers ?? []).filter((p: { state: string }) => p.state === 'synced').length,
  };
  const agent = [...children].find((c) => c.spawnargs.includes(stateDir));
  if (agent) {
    const gone = new Promise((r) => agent.once('exit', r));
    agent.kill('SIGTERM');
    await Promise.race([gone, sleep(3000)]);
  }
  // The same pass without the poll: `tscni agent --once` wall time (Bun start-up included) over the N entries in
  // place, with nothing to change and with one peer moved; 3 runs each, the median.
  const once = () => {
    const t = process.hrtime.bigint();
    ns.run([TSCNI, 'agent', '--once', '--config', file, '--node', 'self', '--state-dir', stateDir]);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const noop = [once(), once(), once()];
  const moved: number[] = [];
  for (let c = 0; c < 3; c++) {
    peers[changes + c] = { ...peers[changes + c], address: `172.20.251.${1 + c}` };
    write([self, ...peers]);
    moved.push(once());
  }
  res.onceNoopMs = median(noop);
  res.onceChangeMs = median(moved);
  return res;
}

// ---- main ----
async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (sudo node bench/multinode/main.ts)');
  for (const tool of ['iperf3', 'ping']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} not found (apt-get install -y iperf3 iputils-ping)`);
  spawnSync(TSCNI, ['--help']); // page the binary in
  const started = Date.now();
  const commit = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  console.error('multinode: building host-gw and vxlan clusters');
  const hg = await cluster('host-gw', 'hg', 60);
  const vx = await cluster('vxlan', 'vx', 61);
  const paths: PathResult[] = [];
  console.error('multinode: throughput and latency');
  paths.push(await measure('same node (bridge)', hg[0].pods[0].ns, hg[0].pods[1].ns, hg[0].pods[1].ip));
  paths.push(await measure('host-gw (routed over the LAN)', hg[0].pods[0].ns, hg[1].pods[0].ns, hg[1].pods[0].ip));
  paths.push(await measure('vxlan (encapsulated)', vx[0].pods[0].ns, vx[1].pods[0].ns, vx[1].pods[0].ip));
  const vxMtu = vx[0].ns.run(['cat', '/sys/class/net/tscni.vxlan/mtu']).trim();
  const syncs: SyncResult[] = [];
  for (const backend of ['host-gw', 'vxlan'] as const) {
    for (const n of [100, 1000]) {
      console.error(`multinode: agent sync, ${backend}, ${n} peers`);
      syncs.push(await syncBench(backend, n, 15));
    }
  }
  const date = new Date().toISOString().replace(/:\d\d\.\d+Z$/, '').replace(':', '');
  const kernel = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
  const iperf = spawnSync('iperf3', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
  const f = (x: number, d = 0) => x.toFixed(d);
  const md = [
    `# tscni multi-node benchmark, ${date}`,
    '',
    `\`sudo node bench/multinode/main.ts\` — ${new Date().toISOString()}, kernel ${kernel}, ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores, ${iperf}, tscni dist/bin built from ${commit || '?'}; run took ${f((Date.now() - started) / 1000)} s.`,
    'Every node, pod and LAN is a network namespace on this one machine (veth pairs, a Linux bridge as the LAN), so the',
    'figures compare the datapaths\' relative cost on one CPU set, not a real NIC.',
    '',
    '## Pod-to-pod TCP (iperf3 -t 3, one stream; ping -c 20 -i 0.2)',
    '',
    '| path | throughput (Gbit/s) | retransmits | RTT median (ms) | loss |',
    '|---|---:|---:|---:|---:|',
    ...paths.map((p) => `| ${p.path} | ${f(p.gbps, 2)} | ${p.retr} | ${f(p.rttMs, 3)} | ${p.loss} |`),
    '',
    `Pods: tscni bridge plugin (cni0, host-local, isGateway, no masquerade); nodes' routes by \`tscni agent --once\`. vxlan device MTU ${vxMtu} (underlay 1500 - 50).`,
    '',
    '## Agent sync time (simulated peers)',
    '',
    'A node netns with `eth0` 172.20.0.1/16 (one end of a veth pair); N peers with addresses in that /16 and pod CIDRs 10.X.Y.0/24 (the',
    'peers are only entries in the file). The agent runs continuously; the time is from the atomic rename of the peers',
    'file to the `lastChange` the agent writes in status.json when the pass ends — it includes the agent\'s 200 ms',
    'polling of the file (≈100 ms on average). "one change" moves one peer to another address (host-gw: a route\'s',
    'gateway; vxlan: an FDB entry\'s dst), 15 times in a row (each 250 ms after the last pass, so the polling share is',
    'about the same every time). "the pass" is the agent\'s own timing of that pass (`lastSync.ms` in status.json: from',
    'reading the file to writing the status, without the polling wait); a change is a delta pass (only the changed peer',
    'validated, planned and written; its median is over the delta passes); the full pass (re-reading the kernel) runs',
    'at start-up and every 10 s, so one change in a run may land on it ("pass kind" counts them). The',
    '`--once` columns time a full pass without the polling: the wall time of',
    '`tscni agent --once` (process start-up under Bun included) over the N entries already in place, with nothing to',
    'change and with one peer moved (median of 3).',
    '',
    '| backend | peers | first sync of N peers (ms) | one change, rename to applied, median (ms) | min–max (ms) | one change, the pass, median (ms) | min–max (ms) | pass kind | `--once`, nothing to change (ms) | `--once`, one change (ms) | routes | FDB | neigh | peers synced |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|',
    ...syncs.map((s) => {
      const delta = s.passMs.filter((_, i) => s.passKinds[i] === 'delta');
      const kinds = [...new Set(s.passKinds)].map((k) => `${s.passKinds.filter((x) => x === k).length} ${k}`).join(', ');
      return `| ${s.backend} | ${s.n} | ${s.firstMs} | ${median(s.changeMs)} | ${Math.min(...s.changeMs)}–${Math.max(...s.changeMs)} | ${median(delta)} | ${Math.min(...delta)}–${Math.max(...delta)} | ${kinds} | ${f(s.onceNoopMs)} | ${f(s.onceChangeMs)} | ${s.routes} | ${s.fdb} | ${s.neigh} | ${s.peersSynced} |`;
    }),
    '',
  ].join('\n');
  process.stdout.write(md);
  const out = join(ROOT, 'bench/results', `multinode-${date}.md`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, md);
  console.error(`multinode: wrote ${out}`);
}

main().then(() => { cleanup(); process.exit(0); }, (err) => { console.error(`multinode: ${err instanceof Error ? err.stack : err}`); cleanup(); process.exit(1); });
