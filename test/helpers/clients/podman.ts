// A private podman for e2e tests: its own containers.conf (CNI backend, given plugin dirs only, runc, no raised
// rlimits), network config dir, storage and run dirs under a temp dir, every command run inside a private host netns
// (nsenter --net, so podman's own /run/netns bind mounts stay visible to later commands).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { rootfsTar } from '../busybox-tar.ts';
import type { TestNetns } from '../netns.ts';

export const IMAGE = 'localhost/tscni-busybox:test';

export interface Podman {
  dir: string;
  confDir: string;
  run(args: string[], opts?: { hideVarLib?: boolean }): { status: number; stdout: string; stderr: string };
  /** Runs and returns trimmed stdout; a non-zero exit fails with podman's stderr. */
  ok(args: string[], opts?: { hideVarLib?: boolean }): string;
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
  const run = (args: string[], opts: { hideVarLib?: boolean } = {}) => {
    // Copying an image writes containers/image's blob-info cache to /var/lib/containers/cache (no option moves it):
    // such commands get a private mount namespace with an empty /var/lib.
    const argv = opts.hideVarLib
      ? ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tscni-e2e /var/lib && exec "$@"', 'sh', 'nsenter', `--net=${host.path}`, 'podman', ...base, ...args]
      : ['nsenter', `--net=${host.path}`, 'podman', ...base, ...args];
    const r = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8', cwd: dir, timeout: 60_000 });
    return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const ok = (args: string[], opts: { hideVarLib?: boolean } = {}) => {
    const r = run(args, opts);
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const parents = libpodParents();
  t.teardown(() => {
    run(['rm', '--all', '--force', '--time', '0']);
    rmSync(dir, { recursive: true, force: true });
    // podman (cgroupfs manager) leaves libpod_parent/conmon behind; remove them only if this test made them.
    for (const p of libpodParents()) {
      if (parents.includes(p)) continue;
      for (const d of [join(p, 'conmon'), p]) {
        try {
          rmdirSync(d);
        } catch {
          // still in use by a concurrent podman: leave it
        }
      }
    }
  });
  return {
    dir, confDir, run, ok,
    addConflist: (name, conf) => writeFileSync(join(confDir, `${name}.conflist`), JSON.stringify(conf, null, 2)),
  };
}

/** podman's cgroupfs parent under every mounted controller (v1) or the unified root (v2). */
function libpodParents(): string[] {
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c));
  return roots.map((r) => join(r, 'libpod_parent')).filter((p) => existsSync(p));
}

/** Imports the busybox rootfs as IMAGE into this podman's private storage. */
export function importBusybox(p: Podman): void {
  const work = join(p.dir, 'image');
  mkdirSync(work);
  p.ok(['import', '--change', 'CMD ["/bin/sh"]', rootfsTar(work), IMAGE], { hideVarLib: true });
  rmSync(work, { recursive: true, force: true });
}
