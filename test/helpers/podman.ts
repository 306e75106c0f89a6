// A private podman for e2e tests: its own containers.conf (CNI backend, given plugin dirs only, runc, no raised
// rlimits), network config dir, storage and run dirs under a temp dir, every command run inside a private host netns
// (nsenter --net, so podman's own /run/netns bind mounts stay visible to later commands).

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { rootfsTar } from './busybox-tar.ts';
import type { TestNetns } from './netns.ts';

export const IMAGE = 'localhost/tscni-busybox:test';

export interface Podman {
  dir: string;
  confDir: string;
  run(args: string[]): { status: number; stdout: string; stderr: string };
  /** Runs and returns trimmed stdout; a non-zero exit fails with podman's stderr. */
  ok(args: string[]): string;
  addConflist(name: string, conf: unknown): void;
}

const tomlList = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;

export function makePodman(t: ExecutionContext, host: TestNetns, pluginDirs: readonly string[], defaultNetwork: string): Podman {
  const dir = mkdtempSync(join(tmpdir(), 'tscni-podman-'));
  const confDir = join(dir, 'net.d');
  for (const d of [confDir, join(dir, 'tmp')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(dir, 'containers.conf'), [
    '[containers]',
    'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
    '[network]',
    'network_backend = "cni"',
    `cni_plugin_dirs = ${tomlList(pluginDirs)}`,
    `network_config_dir = ${JSON.stringify(confDir)}`,
    `default_network = ${JSON.stringify(defaultNetwork)}`,
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `events_logfile_path = ${JSON.stringify(join(dir, 'events.log'))}`,
    '',
  ].join('\n'));
  const base = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs', '--tmpdir', join(dir, 'tmp')];
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CONTAINERS_CONF: join(dir, 'containers.conf'), HOME: dir };
  const run = (args: string[]) => {
    const r = spawnSync('nsenter', [`--net=${host.path}`, 'podman', ...base, ...args], { env, encoding: 'utf8', cwd: dir, timeout: 60_000 });
    return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const ok = (args: string[]) => {
    const r = run(args);
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout.trim();
  };
  t.teardown(() => {
    run(['rm', '--all', '--force', '--time', '0']);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir, confDir, run, ok,
    addConflist: (name, conf) => writeFileSync(join(confDir, `${name}.conflist`), JSON.stringify(conf, null, 2)),
  };
}

/** Imports the busybox rootfs as IMAGE into this podman's private storage. */
export function importBusybox(p: Podman): void {
  const work = join(p.dir, 'image');
  mkdirSync(work);
  p.ok(['import', '--change', 'CMD ["/bin/sh"]', rootfsTar(work), IMAGE]);
  rmSync(work, { recursive: true, force: true });
}

/** The container netns podman keeps in /run/netns (its CNI backend names them netns-<uuid>). */
export const podmanNetnsNames = () => readdirSync('/run/netns').filter((n) => n.startsWith('netns-')).sort();
