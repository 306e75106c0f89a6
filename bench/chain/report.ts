// Turns the phases' samples into the markdown report: per-side medians/p90s, ratios tscni/ref, correctness, targets.

import type { DownCheck, UpCheck } from './checks.ts';
import type { ParSide, RssSide, SeqSide } from './phases.ts';
import { fmt, median, percentile, ratio, tenths } from './stats.ts';

export interface Target { measure: string; target: string; ref: string; tscni: string; ratio: number; limit: number; note?: string }

const upText = (u: UpCheck) =>
  `${u.added === u.pods && u.unique === u.pods && u.pinged === u.pods && u.portmapOk === u.portmapTried ? 'ok' : 'FAIL'}: ` +
  `${u.unique}/${u.pods} unique, ${u.pinged}/${u.pods} ping, ${u.portmapOk}/${u.portmapTried} hostPort`;
const downText = (d: DownCheck) =>
  `${d.failures.length ? 'FAIL' : 'ok'}: left ${d.netns} netns, ${d.veths} veth, ${d.leaseFiles} lease, ${d.fwObjects} fw`;

function addMs(s: SeqSide, part: 'first' | 'last' | 'all', verb: 'add' | 'del') {
  const ok = s.pods.filter((p) => !p.error && p[verb].total !== undefined).map((p) => p[verb].total);
  return part === 'all' ? ok : tenths(ok)[part];
}

export function seqTable(n: number, [ref, ts]: SeqSide[], targets: Target[]): string {
  const k = Math.max(1, Math.ceil(n / 10));
  const lines = [
    `### Chain per pod, one at a time, N=${n} (ms; loopback + bridge(+host-local) + portmap)`,
    '',
    '| measure | ref median | ref p90 | tscni median | tscni p90 | ratio median | ratio p90 | correctness ref | correctness tscni |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  const rows: [string, 'first' | 'last' | 'all', 'add' | 'del'][] = [
    [`ADD first 10% (${k} pods)`, 'first', 'add'],
    [`ADD last 10% (${k} pods)`, 'last', 'add'],
    [`ADD all ${n}`, 'all', 'add'],
    [`DEL first 10% (${n} attached)`, 'first', 'del'],
    [`DEL last 10%`, 'last', 'del'],
  ];
  for (const [label, part, verb] of rows) {
    const a = addMs(ref, part, verb);
    const b = addMs(ts, part, verb);
    const c = verb === 'add' ? [upText(ref.up), upText(ts.up)] : [downText(ref.down), downText(ts.down)];
    lines.push(`| ${label} | ${fmt(median(a))} | ${fmt(percentile(a, 90))} | ${fmt(median(b))} | ${fmt(percentile(b, 90))} | ${fmt(ratio(median(b), median(a)), 2)} | ${fmt(ratio(percentile(b, 90), percentile(a, 90)), 2)} | ${c[0]} | ${c[1]} |`);
  }
  const growth = (s: SeqSide) => ratio(median(addMs(s, 'last', 'add')), median(addMs(s, 'first', 'add')));
  lines.push(`| ADD growth last/first 10% (median) | ${fmt(growth(ref), 2)}x | | ${fmt(growth(ts), 2)}x | | | | | |`);
  lines.push('', '| plugin (median ms, all pods) | ref | tscni | ratio |', '|---|---:|---:|---:|');
  for (const verb of ['add', 'del'] as const) {
    for (const plugin of ['loopback', 'bridge', 'portmap']) {
      const a = median(ref.pods.filter((p) => !p.error).map((p) => p[verb][plugin]).filter((x) => x !== undefined));
      const b = median(ts.pods.filter((p) => !p.error).map((p) => p[verb][plugin]).filter((x) => x !== undefined));
      lines.push(`| ${plugin} ${verb.toUpperCase()} | ${fmt(a)} | ${fmt(b)} | ${fmt(ratio(b, a), 2)} |`);
    }
  }
  const failures = [...ref.up.failures, ...ref.down.failures, ...ts.up.failures, ...ts.down.failures];
  if (failures.length) lines.push('', 'Failures:', ...failures.slice(0, 10).map((f) => `- ${f}`));
  const okAll = (s: SeqSide) => upText(s.up).startsWith('ok') && downText(s.down).startsWith('ok');
  const corr = `ref ${okAll(ref) ? 'ok' : 'FAIL'}, tscni ${okAll(ts) ? 'ok' : 'FAIL'}`;
  if (n >= 100) {
    const a = median(addMs(ref, 'last', 'add'));
    const b = median(addMs(ts, 'last', 'add'));
    targets.push({ measure: `chain ADD per pod, last 10% of ${n} (median)`, target: '≤ 0.3', ref: fmt(a), tscni: fmt(b), ratio: ratio(b, a), limit: 0.3, note: corr });
    targets.push({ measure: `ADD growth first→last 10% of ${n} (tscni, median)`, target: '≤ 1.1x', ref: `${fmt(growth(ref), 2)}x`, tscni: `${fmt(growth(ts), 2)}x`, ratio: growth(ts), limit: 1.1, note: corr });
  } else {
    const a = median(addMs(ref, 'all', 'add'));
    const b = median(addMs(ts, 'all', 'add'));
    targets.push({ measure: `chain ADD per pod, N=${n} (median of all)`, target: '≤ 0.5', ref: fmt(a), tscni: fmt(b), ratio: ratio(b, a), limit: 0.5, note: corr });
    const d = median(addMs(ref, 'all', 'del'));
    const e = median(addMs(ts, 'all', 'del'));
    targets.push({ measure: `chain DEL per pod, N=${n} (median of all)`, target: '≤ 0.6', ref: fmt(d), tscni: fmt(e), ratio: ratio(e, d), limit: 0.6, note: corr });
    const lo = (s: SeqSide) => median(s.pods.filter((p) => !p.error).map((p) => p.add.loopback).filter((x) => x !== undefined));
    targets.push({ measure: `loopback ADD alone, N=${n} (median wall)`, target: '≤ 2x', ref: fmt(lo(ref)), tscni: fmt(lo(ts)), ratio: ratio(lo(ts), lo(ref)), limit: 2, note: corr });
  }
  return lines.join('\n');
}

export function parTable(count: number, jobs: number, sides: ParSide[], targets: Target[]): string {
  const ref = sides.find((s) => s.side.name === 'ref')!;
  const ts = sides.find((s) => s.side.name === 'tscni')!;
  const lines = [
    `### ${count} pods, ${jobs} chains in flight (total wall, ms)`,
    '',
    '| measure | ref | tscni | ratio | correctness ref | correctness tscni |',
    '|---|---:|---:|---:|---|---|',
    `| ADD ${count} pods | ${fmt(ref.addWallMs, 0)} | ${fmt(ts.addWallMs, 0)} | ${fmt(ratio(ts.addWallMs, ref.addWallMs), 2)} | ${upText(ref.up)} | ${upText(ts.up)} |`,
    `| DEL ${count} pods | ${fmt(ref.delWallMs, 0)} | ${fmt(ts.delWallMs, 0)} | ${fmt(ratio(ts.delWallMs, ref.delWallMs), 2)} | ${downText(ref.down)} | ${downText(ts.down)} |`,
  ];
  const failures = sides.flatMap((s) => [...s.up.failures, ...s.down.failures]);
  if (failures.length) lines.push('', 'Failures:', ...failures.slice(0, 10).map((f) => `- ${f}`));
  const ok = (s: ParSide) => upText(s.up).startsWith('ok') && downText(s.down).startsWith('ok');
  targets.push({
    measure: `${count} pods ${jobs}-parallel, total wall (ADD)`, target: '≤ 0.6', ref: fmt(ref.addWallMs, 0), tscni: fmt(ts.addWallMs, 0),
    ratio: ratio(ts.addWallMs, ref.addWallMs), limit: 0.6, note: `ref ${ok(ref) ? 'ok' : 'FAIL'}, tscni ${ok(ts) ? 'ok' : 'FAIL'}`,
  });
  targets.push({
    measure: `${count} pods ${jobs}-parallel, total wall (DEL)`, target: '≤ 0.6', ref: fmt(ref.delWallMs, 0), tscni: fmt(ts.delWallMs, 0),
    ratio: ratio(ts.delWallMs, ref.delWallMs), limit: 0.6, note: `ref ${ok(ref) ? 'ok' : 'FAIL'}, tscni ${ok(ts) ? 'ok' : 'FAIL'}`,
  });
  return lines.join('\n');
}

export function rssTable(sides: RssSide[], targets: Target[]): string {
  const ref = sides.find((s) => s.side === 'ref')!;
  const ts = sides.find((s) => s.side === 'tscni')!;
  const keys = [...new Set([...Object.keys(ref.kib), ...Object.keys(ts.kib)])].sort();
  const mib = (k?: number) => (k === undefined ? NaN : k / 1024);
  const lines = [
    "### Peak RSS of one plugin process (MiB, wait4 ru_maxrss via bench/chain/rusage.py; ref's bridge includes its exec'd host-local)",
    '',
    '| plugin verb | ref | tscni |',
    '|---|---:|---:|',
    ...keys.map((k) => `| ${k} | ${fmt(mib(ref.kib[k]))} | ${fmt(mib(ts.kib[k]))} |`),
  ];
  const errs = [...ref.errors, ...ts.errors];
  if (errs.length) lines.push('', 'Failures:', ...errs.slice(0, 5).map((e) => `- ${e}`));
  const max = (s: RssSide) => Math.max(...Object.values(s.kib).map(mib));
  targets.push({ measure: 'peak RSS of one plugin process (MiB, max over plugins)', target: '≤ 25 MiB', ref: fmt(max(ref)), tscni: fmt(max(ts)), ratio: max(ts), limit: 25, note: errs.length ? 'FAIL: chain errors' : 'ok: chains succeeded' });
  return lines.join('\n');
}

export function targetTable(targets: Target[]): string {
  return [
    '| measure | target | ref | tscni | tscni/ref | met | correctness |',
    '|---|---|---:|---:|---:|---|---|',
    ...targets.map((t) => {
      const isRatio = !t.measure.startsWith('peak RSS') && !t.measure.startsWith('ADD growth');
      const value = isRatio ? fmt(t.ratio, 2) : t.measure.startsWith('peak RSS') ? `${fmt(t.ratio)} MiB` : `${fmt(t.ratio, 2)}x`;
      const met = !Number.isFinite(t.ratio) ? 'not measured' : t.ratio <= t.limit ? 'yes' : `no (by ${fmt(((t.ratio - t.limit) / t.limit) * 100, 0)}%)`;
      return `| ${t.measure} | ${t.target} | ${t.ref} | ${t.tscni} | ${value} | ${met} | ${t.note ?? ''} |`;
    }),
  ].join('\n');
}
