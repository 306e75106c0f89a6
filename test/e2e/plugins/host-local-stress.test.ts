// host-local under load: 200 concurrent ADDs on one network, and kill -9 of writers at random instants.

import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, watch, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callPlugin, DIST_BIN } from '../../helpers/plugin.ts';

const BOOT = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

function tempDir(t: ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tscni-hl-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const net = (dataDir: string, subnet: string) => ({ cniVersion: '1.1.0', name: 'stress', type: 'host-local', ipam: { type: 'host-local', dataDir, subnet } });
/** The store's columns as {address: [id, ifname]}; JSON.parse throws if a write ever left it torn. */
function store(d: string): Record<string, [string, string]> {
  const s = JSON.parse(readFileSync(join(d, 'stress', 'leases.json'), 'utf8'));
  return Object.fromEntries(s.a.map((a: string, k: number) => [a, [s.c[k], s.i[k]]]));
}

test.serial('200 concurrent ADDs: 200 distinct addresses, every lease kept', async (t) => {
  const d = tempDir(t);
  const conf = net(d, '10.30.0.0/24');
  const byId = new Map<string, string>();
  const batch = 40;
  for (let b = 0; b < 200; b += batch) {
    const ids = Array.from({ length: batch }, (_, i) => `ctr${b + i}`);
    const results = await Promise.all(ids.map((id) => callPlugin('host-local', { command: 'ADD', containerId: id, ifname: 'eth0', netns: '/proc/self/ns/net' }, conf)));
    results.forEach((r, i) => {
      t.is(r.code, 0, r.stdout);
      byId.set(ids[i], r.json.ips[0].address.split('/')[0]);
    });
  }
  const addrs = [...byId.values()];
  t.is(new Set(addrs).size, 200, 'no address handed out twice');
  const l = store(d);
  t.is(Object.keys(l).length, 200, 'no lease lost');
  for (const [id, ip] of byId) t.deepEqual(l[ip].slice(0, 2), [id, 'eth0']);
  const sorted = addrs.map((a) => Number(a.split('.')[3])).sort((x, y) => x - y);
  t.deepEqual(sorted, Array.from({ length: 200 }, (_, i) => i + 2), 'the walk fills the range in order');
});

function spawnAdd(conf: object, id: string): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: string | null; stdout: string }> } {
  const child = spawn(join(DIST_BIN, 'host-local'), [], {
    env: { PATH: '/usr/bin:/bin', CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_IFNAME: 'eth0', CNI_NETNS: '/proc/self/ns/net', CNI_PATH: DIST_BIN },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let stdout = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stdin!.end(JSON.stringify(conf));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string }>((res) => child.on('close', (code, signal) => res({ code, signal, stdout })));
  return { child, done };
}

test.serial('kill -9 of writers at random instants never corrupts the store or loses a lease', async (t) => {
  const d = tempDir(t);
  const conf = net(d, '10.31.0.0/16');
  // A big store (10,000 leases of other containers) makes each write long enough to be hit mid-way.
  mkdirSync(join(d, 'stress'));
  const a = Array.from({ length: 10000 }, (_, i) => `10.31.${100 + (i >> 8)}.${i & 255}`);
  const seed = { v: 1, b: [BOOT], a, c: a.map((_, i) => `keep${i}`), i: a.map(() => 'eth0'), t: a.map(() => 1700000000), o: a.map(() => 0), r: {} };
  writeFileSync(join(d, 'stress', 'leases.json'), JSON.stringify(seed));
  const t0 = Date.now();
  const probe = await spawnAdd(conf, 'probe').done;
  t.is(probe.code, 0, probe.stdout);
  const span = Math.max(200, (Date.now() - t0) * 5);
  const confirmed = new Map<string, string>([['probe', JSON.parse(probe.stdout).ips[0].address.split('/')[0]]]);
  let killed = 0;
  let tornWrites = 0;
  for (let round = 0; round < 16; round++) {
    const procs = Array.from({ length: 8 }, (_, i) => ({ id: `r${round}p${i}`, ...spawnAdd(conf, `r${round}p${i}`) }));
    // Even rounds kill at random instants; odd rounds kill every live writer the moment a temp store file appears.
    const watcher = round % 2
      ? watch(join(d, 'stress'), (_ev, f) => {
          if (f === '.leases.json.tmp') for (const p of procs) p.child.kill('SIGKILL');
        })
      : undefined;
    if (!watcher) for (const p of procs) setTimeout(() => p.child.kill('SIGKILL'), Math.random() * span);
    const outs = await Promise.all(procs.map((p) => p.done));
    watcher?.close();
    outs.forEach((o, i) => {
      if (o.signal === 'SIGKILL') killed++;
      else if (o.code === 0) confirmed.set(procs[i].id, JSON.parse(o.stdout).ips[0].address.split('/')[0]);
      else t.fail(`unexpected failure: ${o.stdout}`);
    });
    if (existsSync(join(d, 'stress', '.leases.json.tmp'))) tornWrites++;
    const s = store(d);
    for (let i = 0; i < 10000; i++) if (s[`10.31.${100 + (i >> 8)}.${i & 255}`]?.[0] !== `keep${i}`) t.fail(`lease of keep${i} lost`);
    // A writer killed after its rename but before it printed keeps its lease: more leases than confirmed is fine.
    t.true(Object.keys(s).length >= 10000 + confirmed.size);
    t.true(Object.values(s).every(([id]) => /^(keep\d+|probe|r\d+p\d+)$/.test(id)), 'no lease of an unknown owner');
    for (const [id, ip] of confirmed) t.is(s[ip]?.[0], id, `lease of ${id} kept`);
  }
  t.log(`killed ${killed} of ${16 * 8} writers, ${confirmed.size - 1} completed; ${tornWrites} rounds left a torn temp file behind (a writer killed mid-write)`);
  t.true(killed > 0);
  t.true(tornWrites > 0, 'at least one writer was killed between writing the temp file and renaming it');
  const s = store(d);
  const owners = Object.values(s).map((row) => row[0]);
  t.is(new Set(owners).size, owners.length, 'no container holds two addresses');
});
