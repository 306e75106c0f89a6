// The OCI runtime spec (config.json) for a container: joins its netns by path (or stays in the host's), overlay rootfs, cgroup limits.
// No rlimits: the process inherits the current ones (these hosts forbid raising NOFILE/NPROC above the hard limit).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerState } from './store.ts';

const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const CPU_PERIOD = 100_000;

export function ociSpec(c: ContainerState, opts: { rootfs: string; containerDir: string; netnsPath?: string }): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  if (c.limits.memory) resources.memory = { limit: c.limits.memory };
  if (c.limits.cpus) resources.cpu = { period: CPU_PERIOD, quota: Math.round(c.limits.cpus * CPU_PERIOD) };
  if (c.limits.pidsLimit) resources.pids = { limit: c.limits.pidsLimit };
  resources.devices = [{ allow: false, access: 'rwm' }];
  const bindRo = (name: string) => ({ destination: `/etc/${name}`, type: 'bind', source: join(opts.containerDir, name), options: ['rbind', 'ro'] });
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: c.cmd,
      env: c.env,
      cwd: c.workdir || '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
      noNewPrivileges: true,
    },
    root: { path: opts.rootfs, readonly: false },
    hostname: c.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
      bindRo('hosts'),
      bindRo('resolv.conf'),
      bindRo('hostname'),
    ],
    linux: {
      cgroupsPath: `/tscni/${c.id}`,
      resources,
      // No network entry: runc stays in its caller's netns (--network host).
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, ...(opts.netnsPath ? [{ type: 'network', path: opts.netnsPath }] : [])],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

export function writeBundle(containerDir: string, spec: Record<string, unknown>): void {
  writeFileSync(join(containerDir, 'config.json'), JSON.stringify(spec, null, 2) + '\n');
}
