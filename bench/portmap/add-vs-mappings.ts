// Bench: end-to-end cost of one portmap ADD (the built executable, exec'd like a runtime, inside a private host netns)
// with 10 vs 1,000 mappings already published, tscni against the reference 1.1.1 (iptables).
// Run as root: node bench/portmap/add-vs-mappings.ts [rounds] [big] [--no-ref]

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../plugins/portmap/config.ts';
import { portmapTag } from '../../lib/cni/owner.ts';
import { entriesOf, publish, skeleton } from '../../plugins/portmap/rules.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OURS = join(root, 'dist/bin/portmap');
const REF = '/usr/lib/cni/portmap';
const rounds = Number(process.argv[2] ?? 30);
const BIG = Number(process.argv[3] ?? 1000);
const withRef = !process.argv.includes('--no-ref');
const SMALL = 10;
const run = `${process.pid.toString(36)}`;
const cid = (i: number) => i.toString(16).padStart(64, 'c');
const addr = (i: number) => `10.60.${(i + 2) >> 8}.${(i + 2) & 255}`;

function stdin(i: number): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: 'bench',
    type: 'portmap',
    runtimeConfig: { portMappings: [{ hostPort: 20000 + i, containerPort: 80, protocol: 'tcp' }] },
    prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/x' }], ips: [{ address: `${addr(i)}/16`, interface: 0 }] },
  };
}

function exec(bin: string, ns: string, i: number): number {
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: 'ADD', CNI_CONTAINERID: cid(i), CNI_IFNAME: 'eth0', CNI_NETNS: `/var/run/netns/${ns}`, CNI_PATH: dirname(bin) };
  const t0 = process.hrtime.bigint();
  const r = spawnSync('nsenter', [`--net=/var/run/netns/${ns}`, bin], { env, input: JSON.stringify(stdin(i)), encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${bin} ADD ${i} in ${ns} failed: ${r.stdout}${r.stderr}`);
  return ms;
}

function makeHost(name: string): string {
  const ns = `tscni-b-pm${run}-${name}`;
  execFileSync('ip', ['netns', 'add', ns]);
  made.push(ns);
  for (const argv of [['link', 'set', 'lo', 'up'], ['link', 'add', 'cni0', 'type', 'bridge'], ['addr', 'add', '10.60.0.1/16', 'dev', 'cni0'], ['link', 'set', 'cni0', 'up']]) {
    execFileSync('ip', ['-n', ns, ...argv]);
  }
  return ns;
}

// tscni: the exact batch n ADDs would have applied (rules.ts, the plugin's own planner), in one transaction.
function seedOurs(ns: string, n: number, tmp: string): void {
  const batch = [...skeleton()];
  for (let i = 0; i < n; i++) {
    const cfg = parseConfig(stdin(i));
    const addrs = [{ family: 4 as const, address: addr(i), subnet: '10.60.0.0', prefixLen: 16 }];
    batch.push(...publish(cfg, addrs, entriesOf(cfg, addrs), portmapTag('bench', cid(i), 'eth0')));
  }
  const file = join(tmp, `${ns}.json`);
  writeFileSync(file, JSON.stringify({ nftables: [{ metainfo: { json_schema_version: 1 } }, ...batch] }));
  execFileSync('ip', ['netns', 'exec', ns, '/usr/sbin/nft', '-j', '-f', file]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

const tmp = mkdtempSync(join(tmpdir(), 'tscni-bench-pm-'));
const made: string[] = [];
const cleanup = () => {
  for (const ns of made) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(tmp, { recursive: true, force: true });
};
process.on('SIGINT', () => (cleanup(), process.exit(130)));
try {
  const cases = [
    { name: 'tscni', bin: OURS, n: SMALL },
    { name: 'tscni', bin: OURS, n: BIG },
    ...(withRef ? [{ name: 'reference 1.1.1', bin: REF, n: SMALL }, { name: 'reference 1.1.1', bin: REF, n: BIG }] : []),
  ].map((c, k) => ({ ...c, ns: makeHost(`${k}`), times: [] as number[], seedMs: 0 }));
  for (const c of cases) {
    const t0 = Date.now();
    // The reference's state can only be made by the reference itself (one iptables chain per container).
    if (c.bin === OURS) seedOurs(c.ns, c.n, tmp);
    else for (let i = 0; i < c.n; i++) exec(c.bin, c.ns, i);
    c.seedMs = Date.now() - t0;
  }
  // Interleaved, so background load hits every case alike; each round publishes one new port per case.
  for (let r = 0; r < rounds; r++) for (const c of cases) c.times.push(exec(c.bin, c.ns, 5_000 + r));
  const rows = cases.map((c) => ({ plugin: c.name, published: c.n, medianMs: +median(c.times).toFixed(1), p90Ms: +p90(c.times).toFixed(1), seedS: +(c.seedMs / 1000).toFixed(1) }));
  const ratio = (name: string) => (withRef || name === 'tscni' ? +(rows.find((x) => x.plugin === name && x.published === BIG)!.medianMs / rows.find((x) => x.plugin === name && x.published === SMALL)!.medianMs).toFixed(2) : undefined);
  process.stdout.write(JSON.stringify({
    command: `node bench/portmap/add-vs-mappings.ts ${rounds} ${BIG}${withRef ? '' : ' --no-ref'}`,
    date: new Date().toISOString(),
    loadavg: loadavg().map((x) => +x.toFixed(2)),
    rounds,
    rows,
    ratioBigToSmall: { tscni: ratio('tscni'), reference: ratio('reference 1.1.1') },
  }, null, 2) + '\n');
} finally {
  cleanup();
}
