// Runner cycle: `tscni run -d -p 18080:80 busybox httpd` + `tscni rm -f` against the same with podman 4.3 (CNI
// backend, reference plugins, runc, rlimits not raised, an image made with `podman import`), alternating, each side
// in its own private host netns with private state; a curl through the published port checks every cycle.

import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Target } from '../chain/report.ts';
import { addNetns, delNetns, nsPath, onCleanup, SCRATCH } from '../chain/namespaces.ts';
import { interruptChildren, run, type Ran } from '../chain/proc.ts';
import { fmt, median } from '../chain/stats.ts';

const HOST_PORT = 18080;
const PAGE = 'tscni bench\n';

interface Side {
  name: string;
  host: string;
  env: Record<string, string>;
  argv: string[];
  runArgs: (name: string) => string[];
  rmArgs: (name: string) => string[];
  samples: { run: number; rm: number; ok: boolean; why?: string }[];
}

const ENV_BASE = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

function bridgeConf(name: string, bridge: string, subnet: string, dataDir: string, extra: object[]): object {
  return {
    cniVersion: '1.0.0',
    name,
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: true, hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir } },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ...extra,
    ],
  };
}

/** A busybox rootfs tarball (Debian's busybox-static) with /www/index.html, for `podman import`. */
function rootfsTar(dir: string): string {
  const root = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'www', 'tmp', 'proc', 'sys', 'dev', 'root']) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  for (const a of ['sh', 'httpd', 'sleep', 'cat']) symlinkSync('busybox', join(root, 'bin', a));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'www/index.html'), PAGE);
  const tar = join(dir, 'busybox-rootfs.tar');
  spawnSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tar, '.']);
  return tar;
}

async function must(side: Side, args: string[]): Promise<Ran> {
  const r = await run([...side.argv, ...args], { netns: nsPath(side.host), env: side.env, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`${side.name} ${args.join(' ')} exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 400)}`);
  return r;
}

function tscniSide(bin: string, dir: string): Side {
  const netconf = join(dir, 'net.d');
  mkdirSync(netconf, { recursive: true });
  writeFileSync(join(netconf, 'benchnet.conflist'), JSON.stringify(bridgeConf('benchnet', 'tscnib1', '10.91.0.0/24', join(dir, 'ipam'), [{ type: 'loopback' }])));
  return {
    name: 'tscni',
    host: addNetns('runner-tscni-host'),
    env: { ...ENV_BASE, NETCONFPATH: netconf, TSCNI_STATE_DIR: join(dir, 'state'), TSCNI_CACHE_DIR: join(dir, 'cache'), CNI_PATH: bin },
    argv: [join(bin, 'tscni')],
    runArgs: (name) => ['run', '-d', '--name', name, '--network', 'benchnet', '-p', `${HOST_PORT}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www'],
    rmArgs: (name) => ['rm', '-f', name],
    samples: [],
  };
}

/** podman's `rm -f` waits its 10 s stop timeout (httpd as PID 1 ignores SIGTERM); `--time 0` is also reported. */
function podmanSide(dir: string, rmTime0 = false): Side {
  const netconf = join(dir, 'net.d');
  mkdirSync(netconf, { recursive: true });
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  writeFileSync(join(netconf, 'benchnet.conflist'), JSON.stringify(bridgeConf('benchnet', 'tscnib2', '10.92.0.0/24', join(dir, 'ipam'), [])));
  writeFileSync(join(dir, 'containers.conf'), [
    '[network]', 'network_backend = "cni"', 'cni_plugin_dirs = ["/usr/lib/cni"]', `network_config_dir = ${JSON.stringify(netconf)}`,
    'default_network = "benchnet"', '[engine]', 'runtime = "runc"', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"',
    `events_logfile_path = ${JSON.stringify(join(dir, 'events.log'))}`, '',
  ].join('\n'));
  return {
    name: rmTime0 ? 'podman-t0' : 'podman',
    host: addNetns(rmTime0 ? 'runner-podman0-host' : 'runner-podman-host'),
    env: { ...ENV_BASE, CONTAINERS_CONF: join(dir, 'containers.conf'), HOME: dir },
    argv: ['podman', '--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs', '--tmpdir', join(dir, 'tmp')],
    runArgs: (name) => ['run', '-d', '--name', name, '--network', 'benchnet', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024',
      '-p', `${HOST_PORT}:80`, 'localhost/tscni-bench-busybox', 'httpd', '-f', '-p', '80', '-h', '/www'],
    rmArgs: (name) => ['rm', '-f', ...(rmTime0 ? ['--time', '0'] : []), name],
    samples: [],
  };
}

/** The published port answers 200 from the side's host netns (gateway address and 127.0.0.1 both route to it). */
async function serves(side: Side, gateway: string): Promise<string | undefined> {
  for (let i = 0; i < 30; i++) {
    const r = await run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', `http://${gateway}:${HOST_PORT}/`], { netns: nsPath(side.host), timeoutMs: 5000 });
    if (r.stdout === '200') return undefined;
    await new Promise((res) => setTimeout(res, 100));
  }
  return `${side.name}: http://${gateway}:${HOST_PORT}/ did not answer 200`;
}

/** After rm -f: the container is gone from the runtime's list and its netns is gone (tscni names it by the id). */
async function leftAfterRm(side: Side, id: string): Promise<string | undefined> {
  const ps = await run([...side.argv, 'ps', '-a', ...(side.name !== 'tscni' ? ['-q'] : [])], { netns: nsPath(side.host), env: side.env });
  if (id && ps.stdout.includes(id.slice(0, 12))) return `${side.name}: container ${id.slice(0, 12)} still listed after rm -f`;
  if (side.name === 'tscni' && id && existsSync(nsPath(id))) return `tscni: netns ${id.slice(0, 12)} left after rm -f`;
  return undefined;
}

function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir));
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
}

/** Whether dist/bin/tscni exists and knows `run`. */
export function runnerAvailable(bin: string): boolean {
  const exe = join(bin, 'tscni');
  if (!existsSync(exe)) return false;
  const r = spawnSync(exe, ['run', '--help'], { encoding: 'utf8', env: ENV_BASE, timeout: 30_000 });
  return r.status === 0 && /tscni run/.test(r.stdout + r.stderr);
}

export async function runnerSection(bin: string, cycles: number, targets: Target[]): Promise<string> {
  const notMeasured = (why: string) => {
    targets.push({ measure: 'runner run+rm cycle vs podman', target: '≤ 0.5', ref: 'n/a', tscni: 'n/a', ratio: NaN, limit: 0.5, note: `not measured: ${why}` });
    return `### Runner cycle\n\nnot measured: ${why}`;
  };
  if (!runnerAvailable(bin)) return notMeasured(`${join(bin, 'tscni')} missing or without \`run\``);
  if (spawnSync('podman', ['--version']).status !== 0) return notMeasured('podman not installed');
  const dir = join(SCRATCH, 'runner');
  const sides = [tscniSide(bin, join(dir, 'tscni')), podmanSide(join(dir, 'podman')), podmanSide(join(dir, 'podman'), true)];
  const [ts, pm, pm0] = sides;
  // On an interrupt: no container, conmon or mount may outlive the run.
  onCleanup(() => {
    interruptChildren();
    spawnSync('sleep', ['2']); // let an interrupted `run` undo itself before the sweep
    for (const p of [pm, pm0]) spawnSync('nsenter', [`--net=${nsPath(p.host)}`, ...p.argv, 'rm', '--all', '--force', '--time', '0'], { env: p.env, timeout: 60_000 });
    const names = Array.from({ length: cycles }, (_, i) => `tscni-bench${i}`);
    spawnSync('nsenter', [`--net=${nsPath(ts.host)}`, ...ts.argv, 'rm', '-f', ...names], { env: ts.env, timeout: 60_000 });
    unmountUnder(dir);
  });
  const setupFailures: string[] = [];
  try {
    await must(ts, ['image', 'build-busybox']);
    const work = join(dir, 'podman', 'image');
    mkdirSync(work, { recursive: true });
    await must(pm, ['import', '--change', 'CMD ["/bin/sh"]', rootfsTar(work), 'localhost/tscni-bench-busybox']);
    for (let i = 0; i < cycles; i++) {
      for (const side of i % 2 ? [pm0, pm, ts] : [ts, pm, pm0]) {
        const name = `${side.name}-bench${i}`;
        const sample = { run: NaN, rm: NaN, ok: false, why: undefined as string | undefined };
        try {
          const started = await must(side, side.runArgs(name));
          sample.run = started.ms;
          sample.why = await serves(side, side === ts ? '10.91.0.1' : '10.92.0.1');
          sample.rm = (await must(side, side.rmArgs(name))).ms;
          sample.why ??= await leftAfterRm(side, started.stdout.trim());
          sample.ok = !sample.why;
        } catch (err) {
          sample.why = (err as Error).message;
          await run([...side.argv, ...side.rmArgs(name)], { netns: nsPath(side.host), env: side.env, timeoutMs: 60_000 });
        }
        side.samples.push(sample);
        process.stderr.write(`  runner ${side.name} cycle ${i + 1}: run ${fmt(sample.run, 0)} ms, rm ${fmt(sample.rm, 0)} ms${sample.why ? ` (${sample.why})` : ''}\n`);
      }
    }
  } catch (err) {
    setupFailures.push((err as Error).message);
  } finally {
    for (const p of [pm, pm0]) await run([...p.argv, 'rm', '--all', '--force', '--time', '0'], { netns: nsPath(p.host), env: p.env, timeoutMs: 60_000 });
    unmountUnder(dir);
    for (const side of sides) delNetns(side.host);
  }
  if (setupFailures.length) return notMeasured(setupFailures[0]);
  const stat = (s: Side, f: (x: Side['samples'][number]) => number) => median(s.samples.filter((x) => x.ok).map(f));
  const ok = (s: Side) => `${s.samples.filter((x) => x.ok).length}/${s.samples.length} served 200 via hostPort, gone after rm`;
  const rows = [
    ['run -d -p', (x: Side['samples'][number]) => x.run],
    ['rm -f', (x: Side['samples'][number]) => x.rm],
    ['cycle (run + rm)', (x: Side['samples'][number]) => x.run + x.rm],
  ] as const;
  const lines = [
    `### Runner cycle (median ms of ${cycles}; busybox httpd, -p ${HOST_PORT}:80)`,
    '',
    '| step | podman 4.3 (CNI, ref plugins, runc) | podman, rm -f --time 0 | tscni | tscni/podman | tscni/podman --time 0 |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(([label, f]) => `| ${label} | ${fmt(stat(pm, f))} | ${fmt(stat(pm0, f))} | ${fmt(stat(ts, f))} | ${fmt(stat(ts, f) / stat(pm, f), 2)} | ${fmt(stat(ts, f) / stat(pm0, f), 2)} |`),
    '',
    `Correctness: podman ${ok(pm)}; podman --time 0 ${ok(pm0)}; tscni ${ok(ts)}. podman's \`rm -f\` waits its default 10 s stop timeout before SIGKILL (busybox httpd as PID 1 ignores SIGTERM); tscni's \`rm -f\` kills at once, so the \`--time 0\` column is the like-for-like one.`,
  ];
  const why = sides.flatMap((s) => s.samples.filter((x) => x.why).map((x) => x.why!));
  if (why.length) lines.push('', 'Failures:', ...[...new Set(why)].slice(0, 5).map((w) => `- ${w}`));
  const cyc = (s: Side) => stat(s, (x) => x.run + x.rm);
  const allOk = ts.samples.every((x) => x.ok) && pm.samples.every((x) => x.ok);
  targets.push({ measure: 'runner run+rm cycle vs podman (median)', target: '(≤ 0.5)', ref: fmt(cyc(pm)), tscni: fmt(cyc(ts)), ratio: cyc(ts) / cyc(pm), limit: 0.5, note: `${allOk ? 'ok' : 'FAIL'}: podman ${ok(pm)}, tscni ${ok(ts)}` });
  targets.push({ measure: 'runner run+rm cycle vs podman with rm -f --time 0 (median)', target: '≤ 0.5', ref: fmt(cyc(pm0)), tscni: fmt(cyc(ts)), ratio: cyc(ts) / cyc(pm0), limit: 0.5, note: `${pm0.samples.every((x) => x.ok) ? 'ok' : 'FAIL'}: podman --time 0 ${ok(pm0)}` });
  return lines.join('\n');
}
