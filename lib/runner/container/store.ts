// Container state: one directory per container under <stateRoot>/containers/<id>/ (state.json written atomically)
// and a lowdb index (name → id) that is only changed under the global lock.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStateDb, type StateDb } from '../state-db.ts';
import { notFound, RunnerError, UsageError, Exit } from '../cli/errors.ts';
import { withLock } from '../lock.ts';
import type { MountSpec } from '../volume/mount-specs.ts';
import type { RestartPolicy } from './restart.ts';

export interface PortMapping {
  hostIP: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface NetworkSettings {
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  /** Dual stack: the IPv6 address beside the IPv4 one in IPAddress (docker's field; absent otherwise). */
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  /** Dual stack: the IPv6 gateway (docker's field), where the network's resolver also listens. */
  IPv6Gateway?: string;
}

export type Status = 'created' | 'running' | 'exited';

export interface ContainerState {
  id: string;
  name: string;
  image: string;
  imageId: string;
  rootfsDir?: string;
  cmd: string[];
  env: string[];
  workdir: string;
  hostname: string;
  created: string;
  network: string;
  ifName: string;
  netnsName: string;
  ports: PortMapping[];
  requestedIp?: string;
  requestedMac?: string;
  limits: { memory?: number; cpus?: number; pidsLimit?: number };
  autoRemove: boolean;
  runtime: string;
  status: Status;
  pid?: number;
  monitorPid?: number;
  /** True once runc, the network, the netns and the mount were all given back (cleared by start). */
  released?: boolean;
  /** The tscni process setting the container up (run/start) until its monitor takes over. */
  setupPid?: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  error?: string;
  networkSettings?: NetworkSettings;
  /** -v, --mount and --tmpfs, validated at run. */
  mounts?: MountSpec[];
  restartPolicy?: RestartPolicy;
  /** Times the monitor ran the process again (reset by start). */
  restartCount?: number;
  /** Set by stop/rm (no more restarts; unless-stopped stays down at boot), cleared by start. */
  stopRequested?: boolean;
  /** -u UID[:GID] (root when absent). */
  user?: { uid: number; gid: number };
  readOnly?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  labels?: Record<string, string>;
  /** --add-host lines for /etc/hosts ("IP\tNAME"). */
  extraHosts?: string[];
  /** --dns, --dns-search, --dns-option: replace the host's resolv.conf entries. */
  dns?: { servers: string[]; search: string[]; options: string[] };
  /** -t: run with a pty (only attached: runc needs our terminal). */
  tty?: boolean;
  /** -i: stdin attached (a foreground run) or kept open (-d -i), docker's OpenStdin. */
  openStdin?: boolean;
  /** --init: tini (bind-mounted read-only at /sbin/docker-init) runs as PID 1 in front of the command. */
  init?: boolean;
  /** icc=false networks: the host veth put in the no-icc port set (removed at release). */
  noiccPort?: string;
  /** --network-alias: more names on the first network (its resolver answers them). */
  aliases?: string[];
  /** `tscni network connect`: more user networks, each on its own interface (eth1, ...), ADDed at every start. */
  extraNetworks?: ExtraNetwork[];
}

export interface ExtraNetwork {
  network: string;
  ifName: string;
  /** `network connect --alias`: more names on this network only (gone with the attachment). */
  aliases?: string[];
  settings?: NetworkSettings;
  noiccPort?: string;
}

/**
 * The longest container name. Every kernel and file name tscni derives (netns, veth alias, cgroup, state dir, runc
 * id) comes from the id, never the name; the name only becomes a host name in the container's /etc/hosts, and a
 * host name label is at most 63 characters (RFC 1035), so that is the limit.
 */
export const MAX_NAME_LENGTH = 63;

/** Docker's container-name characters ([a-zA-Z0-9][a-zA-Z0-9_.-]*), at most MAX_NAME_LENGTH of them. */
export function checkContainerName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new UsageError(`invalid --name ${JSON.stringify(name)}: letters, digits, _ . - only, starting with a letter or digit`);
  if (name.length > MAX_NAME_LENGTH) {
    throw new UsageError(`invalid --name ${JSON.stringify(`${name.slice(0, 20)}...`)} (${name.length} characters): at most ${MAX_NAME_LENGTH}, as it is the container's host name in /etc/hosts`);
  }
}

/** A --network-alias: a DNS name (letters, digits, - and . between labels), at most 63 characters a label. */
export function checkAlias(alias: string, flag = '--network-alias'): void {
  if (!/^[A-Za-z0-9]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9_-]{0,62}))*$/.test(alias) || alias.length > 253) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(alias)}: DNS labels of letters, digits, _ and -, separated by dots`);
  }
}

/** Whether `c` was made by `create` and never started: it holds its name and ports only (no process sets it up). */
export function createdOnly(c: Pick<ContainerState, 'status' | 'monitorPid' | 'setupPid'>): boolean {
  return c.status === 'created' && !c.monitorPid && !c.setupPid;
}

interface IndexData {
  containers: { id: string; name: string; created: string }[];
}

export class ContainerStore {
  readonly root: string;
  constructor(stateRoot: string) {
    this.root = join(stateRoot, 'containers');
  }

  dir(id: string): string {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new RunnerError(`invalid container id ${JSON.stringify(id)}`);
    return join(this.root, id);
  }

  get globalLock(): string {
    return join(this.root, '.lock');
  }

  lockFile(id: string): string {
    return join(this.dir(id), '.lock');
  }

  /** Runs fn under this container's lock; throws ENOENT if the container's directory is gone. */
  locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return withLock(this.lockFile(id), fn, { createDir: false });
  }

  private index(): StateDb<IndexData> {
    return openStateDb<IndexData>(join(this.root, 'index.json'), { containers: [] });
  }

  /** Adds the name → id entry (caller holds the global lock). */
  register(s: ContainerState): void {
    const db = this.index();
    if (db.data.containers.some((c) => c.name === s.name)) {
      throw new RunnerError(`the container name ${JSON.stringify(s.name)} is already in use: remove it first (tscni rm -f ${s.name})`, Exit.Conflict);
    }
    db.data.containers.push({ id: s.id, name: s.name, created: s.created });
    db.write();
  }

  unregister(id: string): void {
    const db = this.index();
    db.data.containers = db.data.containers.filter((c) => c.id !== id);
    db.write();
  }

  nameTaken(name: string): boolean {
    return this.index().data.containers.some((c) => c.name === name);
  }

  /** Writes the state; only `create` makes the directory, so a late writer never resurrects a removed container. */
  save(s: ContainerState, opts: { create?: boolean } = {}): void {
    const d = this.dir(s.id);
    if (opts.create) mkdirSync(d, { recursive: true, mode: 0o700 });
    else if (!existsSync(d)) return;
    const tmp = join(d, `.state.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
    renameSync(tmp, join(d, 'state.json'));
  }

  load(id: string): ContainerState | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir(id), 'state.json'), 'utf8')) as ContainerState;
    } catch {
      return undefined;
    }
  }

  /** Every container with a readable state, oldest first. */
  all(): ContainerState[] {
    let ids: string[];
    try {
      ids = readdirSync(this.root).filter((n) => /^[0-9a-f]{64}$/.test(n));
    } catch {
      return [];
    }
    return ids.map((id) => this.load(id)).filter((s): s is ContainerState => s !== undefined).sort((a, b) => a.created.localeCompare(b.created));
  }

  /** Finds by exact name, full id or unique id prefix (docker's rules). */
  resolve(ref: string): ContainerState {
    const all = this.all();
    const byName = all.find((c) => c.name === ref);
    if (byName) return byName;
    if (/^[0-9a-f]+$/.test(ref) && ref.length >= 1) {
      const m = all.filter((c) => c.id.startsWith(ref));
      if (m.length === 1) return m[0];
      if (m.length > 1) throw new RunnerError(`container id prefix ${ref} is ambiguous: it matches ${m.length} containers`, Exit.Usage);
    }
    throw notFound(`no such container: ${ref}`);
  }

  removeDir(id: string): void {
    const d = this.dir(id);
    if (existsSync(d)) rmSync(d, { recursive: true, force: true });
  }
}
