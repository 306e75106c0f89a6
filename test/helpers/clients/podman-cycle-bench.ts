// Measures podman's `run -d -p 18080:80 … httpd` + `rm -f` cycle on tscni's plugins against the same on the
// reference plugins (/usr/lib/cni), alternating, each in its own private host netns and private podman.
// Run as root: node test/helpers/clients/podman-cycle-bench.ts [rounds]

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { TestNetns } from '../netns.ts';
import { REF_BIN, ROOT } from '../plugin.ts';
import { IMAGE, importBusybox, makePodman, type Podman } from './podman.ts';

const rounds = Number(process.argv[2] ?? 7);
const teardowns: (() => void)[] = [];
const t = { teardown: (f: () => void) => teardowns.push(f) } as unknown as ExecutionContext;

function netns(role: string): TestNetns {
  const name = `tscni-b-${role}-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  teardowns.push(() => execFileSync('ip', ['netns', 'del', name]));
  return { name, path: `/run/netns/${name}` } as TestNetns;
}

function setup(label: string, dir: string): Podman {
  const p = makePodman(t, netns(label), [dir], 'bench');
  p.addConflist('bench', {
    cniVersion: '1.0.0', name: 'bench',
    plugins: [
      { type: 'bridge', bridge: 'tscbench0', isGateway: true, ipMasq: true, hairpinMode: true,
        ipam: { type: 'host-local', dataDir: join(p.dir, 'leases'), ranges: [[{ subnet: '10.89.42.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });
  importBusybox(p);
  return p;
}

const ms = (a: bigint, b: bigint) => Number(b - a) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function cycle(p: Podman): { run: number; rm: number } {
  const t0 = process.hrtime.bigint();
  p.ok(['run', '-d', '--name', 'web', '-p', '18080:80', IMAGE, 'httpd', '-f', '-p', '80', '-h', '/www']);
  const t1 = process.hrtime.bigint();
  p.ok(['rm', '--force', '--time', '0', 'web']);
  const t2 = process.hrtime.bigint();
  return { run: ms(t0, t1), rm: ms(t1, t2) };
}

/** The tscni side runs what users get: a `tscni install` (own Node, links) rather than the checkout's dist/bin. */
function installTscni(): string {
  const d = mkdtempSync(join(tmpdir(), 'tscni-bench-inst-'));
  teardowns.push(() => rmSync(d, { recursive: true, force: true }));
  execFileSync(join(ROOT, 'node_modules/node/bin/node'), [join(ROOT, 'lib/install/main.ts'), 'install', '--prefix', join(d, 'tscni'), '--bin-dir', join(d, 'bin'), '--no-conflist'], { stdio: 'pipe' });
  return join(d, 'bin');
}

try {
  const sides = { tscni: setup('pct', installTscni()), reference: setup('pcr', REF_BIN) };
  const res: Record<string, { run: number[]; rm: number[] }> = { tscni: { run: [], rm: [] }, reference: { run: [], rm: [] } };
  for (const [, p] of Object.entries(sides)) cycle(p); // warm-up
  for (let i = 0; i < rounds; i++) {
    for (const [k, p] of Object.entries(sides)) {
      const c = cycle(p);
      res[k].run.push(c.run);
      res[k].rm.push(c.rm);
    }
  }
  for (const [k, r] of Object.entries(res)) {
    const total = r.run.map((x, i) => x + r.rm[i]);
    process.stdout.write(`${k.padEnd(9)} run ${median(r.run).toFixed(0)} ms  rm ${median(r.rm).toFixed(0)} ms  run+rm ${median(total).toFixed(0)} ms  (median of ${rounds})\n`);
  }
} finally {
  for (const f of teardowns.reverse()) {
    try {
      f();
    } catch (err) {
      process.stderr.write(`teardown: ${(err as Error).message}\n`);
    }
  }
}
