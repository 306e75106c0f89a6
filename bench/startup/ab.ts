// Start-up A/B: the same pod chain (ADD then DEL) on several plugin builds, interleaved round by round, each call
// under /usr/bin/time. Prints median wall and median CPU (user+sys, includes waited-for children such as bridge's
// host-local) per plugin and verb. CPU time is the steadier number when other work shares the machine.
// Usage (root): node bench/startup/ab.ts [--pods 15] label=DIR label=DIR ...   (label=DIR+FIRST: CNI_PATH=FIRST:DIR)

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { addPod, delPod, type Pod } from '../chain/cni-chain.ts';
import { delNetns, installCleanup, SCRATCH } from '../chain/namespaces.ts';
import { makeSide, newPod } from '../chain/phases.ts';
import { fmt, median } from '../chain/stats.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { pods: { type: 'string', default: '15' } } });
installCleanup();
const variants = positionals.map((p, k) => {
  const [label, dirs] = p.split('=');
  const [dir, first] = dirs.split('+');
  const side = makeSide(`v${k}`, resolve(dir), 'ab');
  if (first) side.extraEnv = { CNI_PATH: `${resolve(first)}:${resolve(dir)}` };
  side.rssDir = join(SCRATCH, 'ab', label);
  mkdirSync(side.rssDir, { recursive: true });
  return { label, side, pods: [] as Pod[] };
});
const rounds = Number(values.pods);
for (let i = 0; i < rounds; i++) {
  const order = variants.map((_, k) => variants[(i + k) % variants.length]);
  for (const v of order) {
    const pod = newPod('ab', v.side.name, i);
    try {
      await addPod(v.side, pod);
      await delPod(v.side, pod);
    } catch (err) {
      pod.error = (err as Error).message;
      process.stderr.write(`${v.label}: ${pod.error}\n`);
    }
    delNetns(pod.netns);
    v.pods.push(pod);
  }
}
const keys = ['loopback ADD', 'bridge ADD', 'portmap ADD', 'portmap DEL', 'bridge DEL', 'loopback DEL'];
const lines = [
  `| plugin verb (median of ${rounds}) | ${variants.map((v) => `${v.label} wall ms | ${v.label} CPU ms`).join(' | ')} |`,
  `|---|${variants.map(() => '---:|---:').join('|')}|`,
];
const cell = (v: (typeof variants)[number], key: string) => {
  const [type, verb] = key.split(' ');
  const ok = v.pods.filter((p) => !p.error);
  const wall = ok.map((p) => (verb === 'ADD' ? p.add : p.del)[type]);
  const cpu = ok.map((p) => p.usage[key]?.cpuMs).filter((x) => x !== undefined);
  return `${fmt(median(wall))} | ${fmt(median(cpu))}`;
};
for (const key of keys) lines.push(`| ${key} | ${variants.map((v) => cell(v, key)).join(' | ')} |`);
const chain = (v: (typeof variants)[number], f: (p: Pod) => number) => fmt(median(v.pods.filter((p) => !p.error).map(f)));
lines.push(`| chain ADD | ${variants.map((v) => `${chain(v, (p) => p.add.total)} | ${chain(v, (p) => ['loopback', 'bridge', 'portmap'].reduce((s, t) => s + p.usage[`${t} ADD`].cpuMs, 0))}`).join(' | ')} |`);
lines.push(`| chain DEL | ${variants.map((v) => `${chain(v, (p) => p.del.total)} | ${chain(v, (p) => ['loopback', 'bridge', 'portmap'].reduce((s, t) => s + p.usage[`${t} DEL`].cpuMs, 0))}`).join(' | ')} |`);
for (const v of variants) delNetns(v.side.host);
process.stdout.write(lines.join('\n') + '\n');
