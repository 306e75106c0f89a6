// The benchmark phases: N pods one by one (sides alternating pod by pod), 100 pods 8 at a time, peak RSS.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { addPod, delPod, type Pod, type Side } from './cni-chain.ts';
import { checkDown, checkUp, type DownCheck, type UpCheck } from './checks.ts';
import { addNetns, delNetns, PREFIX, SCRATCH } from './namespaces.ts';
import { pool } from './proc.ts';

export interface SideDirs { ref: string; tscni: string }

export interface SeqSide { side: Side; pods: Pod[]; up: UpCheck; down: DownCheck }
export interface ParSide { side: Side; pods: Pod[]; addWallMs: number; delWallMs: number; up: UpCheck; down: DownCheck }

const log = (s: string) => process.stderr.write(s);

/** Extra env for the tscni side's plugins (bench/chain/main.ts --tscni-env). */
export const tscniEnv: Record<string, string> = {};

export function makeSide(name: string, dir: string, phase: string): Side {
  const host = addNetns(`${phase}-${name}-host`);
  const dataDir = join(SCRATCH, phase, name, 'ipam');
  mkdirSync(dataDir, { recursive: true });
  return { name, dir, host, dataDir, extraEnv: name === 'tscni' ? tscniEnv : undefined };
}

export const newPod = (phase: string, side: string, index: number): Pod => ({
  index,
  id: `${PREFIX}${phase}-${side}-${index}`,
  netns: addNetns(`${phase}-${side}-p${index}`),
  add: {},
  del: {},
  usage: {},
});

async function guarded(pod: Pod, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    pod.error = (err as Error).message;
  }
}

/** N pods added one at a time, the two sides alternating pod by pod (which goes first alternates too), then removed. */
export async function sequential(dirs: SideDirs, n: number): Promise<SeqSide[]> {
  const phase = `s${n}`;
  const sides = [makeSide('ref', dirs.ref, phase), makeSide('tscni', dirs.tscni, phase)];
  const pods = new Map(sides.map((s) => [s.name, [] as Pod[]]));
  for (let i = 0; i < n; i++) {
    for (const side of i % 2 ? [...sides].reverse() : sides) {
      const pod = newPod(phase, side.name, i);
      pods.get(side.name)!.push(pod);
      await guarded(pod, () => addPod(side, pod));
    }
    if ((i + 1) % 25 === 0 || i === n - 1) log(`  N=${n}: ${i + 1} pods added per side\r`);
  }
  log('\n');
  const ups = new Map<string, UpCheck>();
  for (const side of sides) ups.set(side.name, await checkUp(side, pods.get(side.name)!));
  for (let i = 0; i < n; i++) {
    for (const side of i % 2 ? [...sides].reverse() : sides) {
      const pod = pods.get(side.name)![i];
      if (!pod.error) await guarded(pod, () => delPod(side, pod));
      delNetns(pod.netns);
    }
  }
  const out: SeqSide[] = [];
  for (const side of sides) {
    const down = await checkDown(side, pods.get(side.name)!, `${PREFIX}${phase}-${side.name}-`, `${phase}-${side.name}-p`);
    out.push({ side, pods: pods.get(side.name)!, up: ups.get(side.name)!, down });
    delNetns(side.host);
  }
  return out;
}

/** `count` pods added with `jobs` chains in flight, then removed the same way; one side after the other. */
export async function parallel(dirs: SideDirs, count: number, jobs: number, order: string[]): Promise<ParSide[]> {
  const out: ParSide[] = [];
  for (const [k, name] of order.entries()) {
    const phase = `p${k}`;
    const side = makeSide(name, name === 'ref' ? dirs.ref : dirs.tscni, phase);
    const pods = Array.from({ length: count }, (_, i) => newPod(phase, name, i));
    let t0 = performance.now();
    await pool(pods, jobs, (pod) => guarded(pod, () => addPod(side, pod)));
    const addWallMs = performance.now() - t0;
    const up = await checkUp(side, pods);
    t0 = performance.now();
    await pool(pods, jobs, (pod) => (pod.error ? Promise.resolve() : guarded(pod, () => delPod(side, pod))));
    const delWallMs = performance.now() - t0;
    for (const pod of pods) delNetns(pod.netns);
    const down = await checkDown(side, pods, `${PREFIX}${phase}-${name}-`, `${phase}-${name}-p`);
    delNetns(side.host);
    out.push({ side, pods, addWallMs, delWallMs, up, down });
    log(`  ${count} pods x${jobs}: ${name} add ${addWallMs.toFixed(0)} ms, del ${delWallMs.toFixed(0)} ms\n`);
  }
  return out;
}

/** One untimed ADD+DEL per side: pages both sides' binaries (and tscni's runtime) into the page cache. */
export async function warmUp(dirs: SideDirs): Promise<string[]> {
  const errors: string[] = [];
  for (const name of ['ref', 'tscni']) {
    const side = makeSide(name, name === 'ref' ? dirs.ref : dirs.tscni, 'warm');
    const pod = newPod('warm', name, 0);
    await guarded(pod, async () => {
      await addPod(side, pod);
      await delPod(side, pod);
    });
    if (pod.error) errors.push(pod.error);
    delNetns(pod.netns);
    delNetns(side.host);
  }
  return errors;
}

export interface RssSide { side: string; kib: Record<string, number>; errors: string[] }

/** Peak RSS (KiB, wait4 rusage via /usr/bin/time -f %M) of each plugin process over a few ADD/DEL chains. */
export async function peakRss(dirs: SideDirs, pods = 3): Promise<RssSide[]> {
  const out: RssSide[] = [];
  for (const name of ['ref', 'tscni']) {
    const side = makeSide(name, name === 'ref' ? dirs.ref : dirs.tscni, 'rss');
    side.rssDir = join(SCRATCH, 'rss', name);
    mkdirSync(side.rssDir, { recursive: true });
    const kib: Record<string, number> = {};
    const errors: string[] = [];
    for (let i = 0; i < pods; i++) {
      const pod = newPod('rss', name, i);
      await guarded(pod, async () => {
        await addPod(side, pod);
        await delPod(side, pod);
      });
      if (pod.error) errors.push(pod.error);
      delNetns(pod.netns);
      for (const [key, u] of Object.entries(pod.usage)) kib[key] = Math.max(kib[key] ?? 0, u.rssKiB);
    }
    delNetns(side.host);
    out.push({ side: name, kib, errors });
  }
  return out;
}
