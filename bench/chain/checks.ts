// Correctness next to every number: unique addresses, pods pingable from the host netns, a sample of port
// mappings answering, and nothing left after DEL (pod netns, veths, lease files, nft/iptables objects).

import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATEWAY, hostPortOf, type Pod, type Side } from './cni-chain.ts';
import { leftoverNetns, nsPath, SCRATCH } from './namespaces.ts';
import { pool, run } from './proc.ts';

export interface UpCheck {
  pods: number;
  added: number;
  unique: number;
  pinged: number;
  portmapOk: number;
  portmapTried: number;
  failures: string[];
}

export interface DownCheck {
  netns: number;
  veths: number;
  leaseFiles: number;
  fwObjects: number;
  failures: string[];
}

export async function checkUp(side: Side, pods: Pod[], portmapSample = 3): Promise<UpCheck> {
  const ok = pods.filter((p) => p.ip && !p.error);
  const failures = pods.filter((p) => p.error).map((p) => p.error!).slice(0, 3);
  const pinged = await pool(ok, 16, async (p) => (await run(['ping', '-c1', '-W1', '-q', p.ip!], { netns: nsPath(side.host), timeoutMs: 5000 })).code === 0);
  pinged.forEach((good, i) => good || failures.push(`${side.name}: pod ${ok[i].index} (${ok[i].ip}) not pingable`));
  // The kernel's ARP table is one for all namespaces (gc_thresh3 = 1024 entries by default): drop what our pings
  // added, or 300 pods per side overflow it and the other side's later pings fail for no fault of its own.
  await pool([side.host, ...ok.map((p) => p.netns)], 16, (ns) => run(['ip', '-n', ns, 'neigh', 'flush', 'all']));
  const sample = [...new Set([0, Math.floor(ok.length / 2), ok.length - 1])].filter((i) => i >= 0 && i < ok.length).slice(0, portmapSample);
  let portmapOk = 0;
  for (const i of sample) {
    const why = await checkPortmap(side, ok[i]);
    if (why) failures.push(why);
    else portmapOk++;
  }
  return {
    pods: pods.length,
    added: ok.length,
    unique: new Set(ok.map((p) => p.ip)).size,
    pinged: pinged.filter(Boolean).length,
    portmapOk,
    portmapTried: sample.length,
    failures,
  };
}

/** Serves the pod's name with busybox httpd inside the pod and fetches it through hostPort from the host netns. */
async function checkPortmap(side: Side, pod: Pod): Promise<string | undefined> {
  const www = join(SCRATCH, 'www', pod.id);
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'index.html'), `${pod.id}\n`);
  const httpd = spawn('ip', ['netns', 'exec', pod.netns, '/bin/busybox', 'httpd', '-f', '-p', '80', '-h', www], { stdio: 'ignore' });
  try {
    const url = `http://${GATEWAY}:${hostPortOf(pod.index)}/`;
    for (let attempt = 0; attempt < 20; attempt++) {
      const r = await run(['curl', '-s', '--max-time', '2', url], { netns: nsPath(side.host), timeoutMs: 5000 });
      if (r.code === 0 && r.stdout.trim() === pod.id) return undefined;
      await new Promise((res) => setTimeout(res, 100));
    }
    return `${side.name}: ${url} (hostPort of pod ${pod.index}) did not answer with the pod's page`;
  } finally {
    httpd.kill('SIGKILL');
  }
}

function filesMentioning(dir: string, needle: string): number {
  let n = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) n += filesMentioning(p, needle);
    else if (e.includes(needle) || readFileSync(p, 'utf8').includes(needle)) n++;
  }
  return n;
}

/** After DEL: counts what the pods left in their side's host netns and dataDir. `idPrefix` is common to their ids. */
export async function checkDown(side: Side, pods: Pod[], idPrefix: string, netnsFilter: string): Promise<DownCheck> {
  const failures: string[] = [];
  const netns = leftoverNetns(netnsFilter).length;
  const links = JSON.parse((await run(['ip', '-j', 'link', 'show', 'type', 'veth'], { netns: nsPath(side.host) })).stdout || '[]') as unknown[];
  const leaseFiles = filesMentioning(side.dataDir, idPrefix);
  const ruleset = (await run(['nft', '-j', 'list', 'ruleset'], { netns: nsPath(side.host) })).stdout;
  const ips = new Set(pods.map((p) => p.ip).filter(Boolean));
  let fwObjects = ruleset.split(idPrefix).length - 1;
  for (const ip of ips) fwObjects += ruleset.split(`"${ip}"`).length - 1;
  if (netns) failures.push(`${side.name}: ${netns} pod netns left`);
  if (links.length) failures.push(`${side.name}: ${links.length} veths left in the host netns`);
  if (leaseFiles) failures.push(`${side.name}: ${leaseFiles} lease files still name a pod`);
  if (fwObjects) failures.push(`${side.name}: ${fwObjects} nft/iptables objects still name a pod id or address`);
  return { netns, veths: links.length, leaseFiles, fwObjects, failures };
}
