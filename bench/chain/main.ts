// Benchmark entry (run by bench/run as root): reference plugins vs tscni's, side by side in one run; prints and saves
// the markdown report. Options: --ref DIR --tscni DIR --n 20,300 --parallel 100 --jobs 8 --rss-pods 3 --runner-cycles 5
// --no-runner --quick --out DIR --tscni-env K=V (e.g. BUN_OPTIONS="--cpu-prof-md --cpu-prof-dir=/tmp/prof").

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installCleanup, PREFIX } from './namespaces.ts';
import { parallel, peakRss, sequential, tscniEnv, warmUp } from './phases.ts';
import { parTable, rssTable, seqTable, targetTable, type Target } from './report.ts';
import { runnerSection } from '../runner/runner.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const { values } = parseArgs({
  options: {
    ref: { type: 'string', default: '/usr/lib/cni' },
    tscni: { type: 'string', default: join(ROOT, 'dist/bin') },
    n: { type: 'string', default: '20,300' },
    parallel: { type: 'string', default: '100' },
    jobs: { type: 'string', default: '8' },
    'rss-pods': { type: 'string', default: '3' },
    'runner-cycles': { type: 'string', default: '5' },
    'no-runner': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
    'tscni-env': { type: 'string', multiple: true, default: [] },
  },
});

if (process.getuid?.() !== 0) {
  process.stderr.write('bench: run as root (sudo bash bench/run): it creates network namespaces\n');
  process.exit(1);
}
installCleanup();

for (const kv of values['tscni-env']!) tscniEnv[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
const quick = values.quick;
const dirs = { ref: resolve(values.ref!), tscni: resolve(values.tscni!) };
const ns = (quick ? '20' : values.n!).split(',').filter(Boolean).map(Number);
const parCount = quick ? 24 : Number(values.parallel);
const jobs = Number(values.jobs);
const log = (s: string) => process.stderr.write(s + '\n');

const sh = (cmd: string, args: string[]) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
};

const started = new Date();
const sections: string[] = [];
const targets: Target[] = [];

log('bench: warm-up (one untimed pod per side)');
for (const e of await warmUp(dirs)) log(`  warm-up failed: ${e}`);
for (const n of ns) {
  log(`bench: chain, N=${n}, one pod at a time, sides alternating (${PREFIX}*)`);
  sections.push(seqTable(n, await sequential(dirs, n), targets));
}
if (parCount > 0) {
  log(`bench: ${parCount} pods, ${jobs} in flight`);
  sections.push(parTable(parCount, jobs, await parallel(dirs, parCount, jobs, ['ref', 'tscni']), targets));
}
if (Number(values['rss-pods']) > 0) {
  log('bench: peak RSS');
  sections.push(rssTable(await peakRss(dirs, Number(values['rss-pods'])), targets));
}
if (!values['no-runner']) {
  log('bench: runner cycle');
  sections.push(await runnerSection(dirs.tscni, quick ? 2 : Number(values['runner-cycles']), targets));
}

const stamp = started.toISOString().replace(/:\d\d\.\d+Z$/, '').replace(':', '');
const header = [
  `# tscni benchmark ${started.toISOString()}`,
  '',
  `Command: \`sudo bash bench/run ${process.argv.slice(2).join(' ')}\``.replace(/ `$/, '`'),
  '',
  `Machine: ${sh('nproc', [])} cores, Linux ${release()}, load before start ${sh('cat', ['/proc/loadavg'])}. ` +
    `tscni at git ${sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])}, Bun ${sh(join(ROOT, 'node_modules/bun/bin/bun.exe'), ['--version'])}. ` +
    `ref = \`${dirs.ref}\` (containernetworking-plugins ${sh('dpkg-query', ['-W', '-f=${Version}', 'containernetworking-plugins'])}), tscni = \`${dirs.tscni}\`. ` +
    `Every plugin runs inside a private host netns (one per side and phase), each pod in a fresh netns.`,
  '',
  '## Targets (ratios tscni/ref, this run)',
  '',
  targetTable(targets),
  '',
  '## Details',
].join('\n');
const report = [header, ...sections].join('\n\n') + '\n';
process.stdout.write('\n' + report);
mkdirSync(values.out!, { recursive: true });
const file = join(values.out!, `${stamp}.md`);
writeFileSync(file, report);
log(`bench: wrote ${file}`);
