// Times repeated execs of one command (env + stdin, optionally inside a netns): median and p90 wall ms.
// Usage: node bench/startup/time-exec.ts [--runs 30] [--netns NAME] [--stdin FILE] [--env K=V ...] -- argv...

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { run } from '../chain/proc.ts';
import { median, percentile } from '../chain/stats.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    netns: { type: 'string' },
    stdin: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    label: { type: 'string' },
  },
});

const env: Record<string, string> = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
for (const kv of values.env!) {
  const i = kv.indexOf('=');
  env[kv.slice(0, i)] = kv.slice(i + 1);
}
const input = values.stdin ? readFileSync(values.stdin, 'utf8') : '';
const opts = { env, input, netns: values.netns ? `/run/netns/${values.netns}` : undefined };
const samples: number[] = [];
for (let i = 0; i < Number(values.warmup) + Number(values.runs); i++) {
  const r = await run(positionals, opts);
  if (r.code !== 0) {
    process.stderr.write(`${positionals.join(' ')} exit ${r.code}: ${(r.stdout + r.stderr).trim().slice(0, 300)}\n`);
    process.exit(1);
  }
  if (i >= Number(values.warmup)) samples.push(r.ms);
}
process.stdout.write(`${(values.label ?? positionals.join(' ')).padEnd(48)} median ${median(samples).toFixed(1)} ms  p90 ${percentile(samples, 90).toFixed(1)} ms  (n=${samples.length})\n`);
