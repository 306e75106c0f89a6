// The OCI runtime spec (config.json) for a container: joins its netns by path (or stays in the host's), overlay rootfs, cgroup limits.
// No rlimits: the process inherits the current ones (these hosts forbid raising NOFILE/NPROC above the hard limit).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerState } from './store.ts';
import type { OciMount } from '../volume/oci-mounts.ts';

const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability the kernel knows (--cap-add ALL). */
export const ALL_CAPS = [
  'CAP_AUDIT_CONTROL', 'CAP_AUDIT_READ', 'CAP_AUDIT_WRITE', 'CAP_BLOCK_SUSPEND', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE', 'CAP_CHOWN',
  'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_KILL', 'CAP_LEASE',
  'CAP_LINUX_IMMUTABLE', 'CAP_MAC_ADMIN', 'CAP_MAC_OVERRIDE', 'CAP_MKNOD', 'CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST',
  'CAP_NET_RAW', 'CAP_PERFMON', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYSLOG', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_CHROOT', 'CAP_SYS_MODULE', 'CAP_SYS_NICE', 'CAP_SYS_PACCT', 'CAP_SYS_PTRACE', 'CAP_SYS_RAWIO', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_WAKE_ALARM',
];

/** The capability set: docker's default, minus --cap-drop, plus --cap-add (ALL means every one). */
export function capabilities(add: readonly string[] = [], drop: readonly string[] = []): string[] {
  const caps = drop.includes('ALL') ? [] : CAPS.filter((c) => !drop.includes(c));
  return add.includes('ALL') ? [...ALL_CAPS] : [...caps, ...add.filter((c) => !caps.includes(c))];
}

const CPU_PERIOD = 100_000;

/** Where --init's binary appears in the container (docker's path), and what runs: it, `--`, the command. */
export const INIT_TARGET = '/sbin/docker-init';

export interface SpecOptions {
  rootfs: string;
  containerDir: string;
  netnsPath?: string;
  mounts?: OciMount[];
  /** A pty for the process (an attached -t run). */
  terminal?: boolean;
  /** The host's tini (static), when the container runs with --init. */
  initPath?: string;
}

export function ociSpec(c: ContainerState, opts: SpecOptions): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  if (c.limits.memory) resources.memory = { limit: c.limits.memory };
  if (c.limits.cpus) resources.cpu = { period: CPU_PERIOD, quota: Math.round(c.limits.cpus * CPU_PERIOD) };
  if (c.limits.pidsLimit) resources.pids = { limit: c.limits.pidsLimit };
  resources.devices = [{ allow: false, access: 'rwm' }];
  const caps = capabilities(c.capAdd, c.capDrop);
  const bindRo = (name: string) => ({ destination: `/etc/${name}`, type: 'bind', source: join(opts.containerDir, name), options: ['rbind', 'ro'] });
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: opts.terminal === true,
      user: c.user ?? { uid: 0, gid: 0 },
      args: opts.initPath ? [INIT_TARGET, '--', ...c.cmd] : c.cmd,
      env: c.env,
      cwd: c.workdir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: true,
    },
    root: { path: opts.rootfs, readonly: c.readOnly === true },
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
      ...(opts.mounts ?? []),
      ...(opts.initPath ? [{ destination: INIT_TARGET, type: 'bind', source: opts.initPath, options: ['rbind', 'ro'] }] : []),
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
