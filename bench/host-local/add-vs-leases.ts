// Bench: end-to-end cost of one host-local ADD (the built executable, exec'd like a runtime) with 10 vs 10,000
// leases in a /16, tscni against the reference 1.1.1. Run: node bench/host-local/add-vs-leases.ts [rounds]

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OURS = join(root, 'dist/bin/host-local');
const REF = '/usr/lib/cni/host-local';
const rounds = Number(process.argv[2] ?? 40);
const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
// Container ids as runtimes make them: 64 hex characters.
const cid = (i: number) => i.toString(16).padStart(64, 'c');
const addr = (i: number) => `10.60.${(i + 2) >> 8}.${(i + 2) & 255}`;

function seed(dir: string, n: number, ref: boolean): void {
  const net = join(dir, 'bench');
  mkdirSync(net, { recursive: true });
  if (ref) {
    for (let i = 0; i < n; i++) writeFileSync(join(net, addr(i)), `${cid(i)}\r\neth0`);
    writeFileSync(join(net, 'last_reserved_ip.0'), addr(n - 1));
    return;
  }
  const a = Array.from({ length: n }, (_, i) => addr(i));
  const store = { v: 1, b: [boot], a, c: a.map((_, i) => cid(i)), i: a.map(() => 'eth0'), t: a.map((_, i) => 1700000000 + i), o: a.map(() => 0), r: { '0': addr(n - 1) } };
  writeFileSync(join(net, 'leases.json'), JSON.stringify(store));
}

function addOnce(bin: string, dataDir: string, id: string): number {
  const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'bench', type: 'host-local', ipam: { type: 'host-local', dataDir, subnet: '10.60.0.0/16' } });
  const env = { PATH: '/usr/bin:/bin', CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_IFNAME: 'eth0', CNI_NETNS: '/proc/self/ns/net', CNI_PATH: dirname(bin) };
  const t0 = process.hrtime.bigint();
  const r = spawnSync(bin, [], { env, input: conf, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${bin} ADD failed: ${r.stdout}${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

const tmp = mkdtempSync(join(tmpdir(), 'tscni-bench-hl-'));
try {
  const cases = [
    { name: 'tscni', bin: OURS, n: 10 },
    { name: 'tscni', bin: OURS, n: 10000 },
    { name: 'reference 1.1.1', bin: REF, n: 10 },
    { name: 'reference 1.1.1', bin: REF, n: 10000 },
  ].map((c, i) => ({ ...c, dir: join(tmp, String(i)), times: [] as number[] }));
  for (const c of cases) seed(c.dir, c.n, c.bin === REF);
  for (const c of cases) addOnce(c.bin, c.dir, 'warmup');
  // Interleaved, so background load hits every case alike.
  for (let r = 0; r < rounds; r++) for (const c of cases) c.times.push(addOnce(c.bin, c.dir, cid(1e6 + r)));
  const rows = cases.map((c) => ({ plugin: c.name, leases: c.n, medianMs: +median(c.times).toFixed(1), p90Ms: +p90(c.times).toFixed(1) }));
  const ratio = (name: string) => +(rows.find((x) => x.plugin === name && x.leases === 10000)!.medianMs / rows.find((x) => x.plugin === name && x.leases === 10)!.medianMs).toFixed(2);
  const out = {
    command: `node bench/host-local/add-vs-leases.ts ${rounds}`,
    date: new Date().toISOString(),
    loadavg: loadavg().map((x) => +x.toFixed(2)),
    rounds,
    rows,
    ratio10kTo10: { tscni: ratio('tscni'), reference: ratio('reference 1.1.1') },
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
