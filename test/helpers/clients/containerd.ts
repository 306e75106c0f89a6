// A private containerd for e2e tests: its own config, root, state and socket under a temp dir, started inside a
// private host netns AND a persistent private mount namespace in which /opt, /etc/cni, /var/lib/cni,
// /run/containerd and /run/netns are empty tmpfs. So `tscni install` can use its real default paths there, ctr
// (which always reads /etc/cni/net.d and /opt/cni/bin) and CRI see only tscni, and the machine's dirs stay untouched.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { TestNetns } from '../netns.ts';
import { ROOT } from '../plugin.ts';

export const PRIVATE_DIRS = ['/opt', '/etc/cni', '/var/lib/cni', '/run/containerd', '/run/netns'];
export const NODE = join(ROOT, 'node_modules/node/bin/node');

export interface Containerd {
  dir: string;
  socket: string;
  /** Runs argv in the private mount ns + host netns; returns status and output. */
  exec(argv: string[], input?: string): { status: number; stdout: string; stderr: string };
  ok(argv: string[]): string;
  ctr(ns: string, args: string[]): string;
  /** Spawns argv (long-running) in the private namespaces; killed at teardown if still running. */
  spawn(argv: string[], log: string): ChildProcess;
}

function sh(argv: string[]): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

function waitFor(what: string, ok: () => boolean, ms = 15_000): void {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    spawnSync('sleep', ['0.1']);
  }
}

/** Still running? (A zombie counts as gone: teardown waits synchronously, so node cannot reap it yet.) */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of processes whose command line mentions `needle` (the private containerd's address): its shims. */
function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle)) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function makeContainerd(t: ExecutionContext, host: TestNetns, cri: { sandboxImage: string }): Containerd {
  const dir = mkdtempSync(join(tmpdir(), 'tscni-ctd-'));
  const nsDir = join(dir, 'ns');
  const mnt = join(nsDir, 'mnt');
  const socket = join(dir, 'containerd.sock');
  const created: string[] = [];
  const children: ChildProcess[] = [];
  const teardown: (() => void)[] = [];
  t.teardown(() => {
    for (const f of teardown.reverse()) {
      try {
        f();
      } catch {
        // keep tearing down
      }
    }
  });

  // A persistent mount namespace needs its bind file on a private mount.
  mkdirSync(nsDir);
  sh(['mount', '--bind', nsDir, nsDir]);
  teardown.push(() => {
    spawnSync('umount', [nsDir]);
    rmSync(dir, { recursive: true, force: true });
  });
  sh(['mount', '--make-private', nsDir]);
  closeSync(openSync(mnt, 'w'));
  sh(['unshare', `--mount=${mnt}`, '--propagation', 'private', 'true']);
  teardown.push(() => spawnSync('umount', [mnt]));
  for (const d of PRIVATE_DIRS) {
    if (!existsSync(d)) {
      mkdirSync(d);
      created.push(d);
    }
  }
  teardown.push(() => {
    for (const d of created.reverse()) rmdirSync(d);
  });

  const prefix = ['nsenter', `--mount=${mnt}`, `--net=${host.path}`];
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir };
  const exec = (argv: string[], input?: string) => {
    const r = spawnSync(prefix[0], [...prefix.slice(1), ...argv], { env, input, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const ok = (argv: string[]) => {
    const r = exec(argv);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout.trim();
  };
  for (const d of PRIVATE_DIRS) ok(['mount', '-t', 'tmpfs', '-o', 'mode=755', 'tscni-e2e', d]);

  writeFileSync(join(dir, 'config.toml'), [
    'version = 2',
    `root = ${JSON.stringify(join(dir, 'root'))}`,
    `state = ${JSON.stringify(join(dir, 'state'))}`,
    '[grpc]',
    `  address = ${JSON.stringify(socket)}`,
    '[ttrpc]',
    `  address = ${JSON.stringify(socket + '.ttrpc')}`,
    '[debug]',
    `  address = ${JSON.stringify(join(dir, 'debug.sock'))}`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${JSON.stringify(join(dir, 'opt'))}`,
    '[plugins."io.containerd.grpc.v1.cri"]',
    `  sandbox_image = ${JSON.stringify(cri.sandboxImage)}`,
    // These machines refuse lowering oom_score_adj (the sandbox's default -998): keep the caller's.
    '  restrict_oom_score_adj = true',
    '  [plugins."io.containerd.grpc.v1.cri".containerd]',
    '    snapshotter = "native"',
    '  [plugins."io.containerd.grpc.v1.cri".cni]',
    '    bin_dir = "/opt/cni/bin"',
    '    conf_dir = "/etc/cni/net.d"',
    '',
  ].join('\n'));

  const spawnIn = (argv: string[], log: string) => {
    const fd = openSync(join(dir, log), 'a');
    const child = spawn(prefix[0], [...prefix.slice(1), ...argv], { env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    children.push(child);
    return child;
  };
  const daemon = spawnIn(['containerd', '--config', join(dir, 'config.toml')], 'containerd.log');
  teardown.push(() => {
    for (const c of children.slice(1)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // containerd 1.6 can take 15 s to stop on SIGTERM (CRI shutdown); its state dies with the temp dir anyway.
    daemon.kill('SIGTERM');
    const gone = () => !alive(daemon.pid!);
    try {
      waitFor('containerd to exit', gone, 2000);
    } catch {
      daemon.kill('SIGKILL');
      waitFor('containerd to die', gone);
    }
    // Shims outlive the daemon by design; a test that failed midway may leave one with its container.
    for (const pid of pidsMentioning(socket)) process.kill(pid, 'SIGKILL');
  });
  const ctr = (ns: string, args: string[]) => ok(['ctr', '--address', socket, '-n', ns, ...args]);
  waitFor('containerd to serve', () => exec(['ctr', '--address', socket, 'version']).status === 0);
  return { dir, socket, exec, ok, ctr, spawn: spawnIn };
}

/** Cgroup dirs named `name` directly under each v1 controller (ctr puts containers under /<namespace>/<id>). */
export function cgroupDirs(name: string): string[] {
  if (!existsSync('/sys/fs/cgroup')) return [];
  return readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c, name)).filter((p) => existsSync(p));
}
