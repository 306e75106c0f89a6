// host-local's verbs as plain functions over (config, env): plugins/host-local/main.ts wraps them, and bridge calls them in-process.

import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, Code } from '../cni/errors.ts';
import type { Result } from '../cni/result.ts';
import { validAttachments } from '../cni/attachments.ts';
import { cidrContains, formatIp, parseCidr, parseIp } from '../net/ip.ts';
import { allocate, freeCount } from './allocator.ts';
import { parseIpamConfig, parseStoreConfig, setString, type StoreConfig } from './config.ts';
import { readResolvConf } from './dns.ts';
import { lockFile } from '../kernel/file-lock.ts';
import { LeaseStore, LOCK_FILE } from './store-lowdb.ts';

export interface IpamEnv {
  containerId: string;
  ifname: string;
  /** CNI_ARGS, for IP=. */
  args?: string;
}

type Conf = Record<string, unknown>;

const networkDir = (sc: StoreConfig): string => join(sc.dataDir, sc.name);

/** mkdir -p that reports the real errno (Node's recursive mkdir says ENOENT on a read-only file system). */
function mkdirs(path: string): void {
  let prefix = '';
  for (const part of path.split('/').filter(Boolean)) {
    prefix += `/${part}`;
    try {
      mkdirSync(prefix, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!statSync(prefix).isDirectory()) throw Object.assign(new Error(`${prefix} is not a directory`), { code: 'ENOTDIR' });
    }
  }
}

/** Creates `<dataDir>/<network>` (code 5 naming dataDir when that is impossible). */
function ensureNetworkDir(sc: StoreConfig): string {
  const dir = networkDir(sc);
  try {
    const st = statSync(sc.dataDir, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) throw new CniError(Code.Io, `ipam.dataDir ${JSON.stringify(sc.dataDir)} is not a directory`);
    mkdirs(dir);
  } catch (err) {
    if (err instanceof CniError) throw err;
    throw new CniError(Code.Io, `cannot use ipam.dataDir ${JSON.stringify(sc.dataDir)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return dir;
}

/** Runs one read-modify-write of the store under the network's flock. */
async function withLockedStore<T>(dir: string, fn: (store: LeaseStore) => Promise<T>): Promise<T> {
  const unlock = lockFile(join(dir, LOCK_FILE));
  try {
    return await fn(await LeaseStore.open(dir));
  } finally {
    unlock();
  }
}

export async function ipamAdd(conf: Conf, version: string, env: IpamEnv): Promise<Result> {
  const cfg = parseIpamConfig(conf, version, env.args ?? '');
  const dns = cfg.resolvConf ? readResolvConf(cfg.resolvConf) : undefined;
  const dir = ensureNetworkDir(cfg);
  const allocs = await withLockedStore(dir, async (store) => {
    store.reclaimOtherBoots();
    const out = allocate(cfg.rangeSets, store, cfg.requested, env.containerId, env.ifname);
    for (const a of out) store.reserve(a.address, env.containerId, env.ifname, a.setIndex);
    await store.write();
    return out;
  });
  const result: Result = {
    ips: allocs.map((a) => ({ address: `${a.address}/${a.range.subnet.prefix}`, gateway: formatIp(a.range.gateway) })),
  };
  if (cfg.routes.length) result.routes = cfg.routes.map((r) => ({ ...r }));
  if (dns && Object.keys(dns).length) result.dns = dns;
  return result;
}

/** Releases exactly the leases of (containerId, ifname); succeeds when there is nothing to release. */
export async function ipamDel(conf: Conf, env: IpamEnv): Promise<void> {
  const dir = networkDir(parseStoreConfig(conf));
  if (!existsSync(join(dir, LOCK_FILE)) && !existsSync(dir)) return;
  await withLockedStore(dir, async (store) => {
    const gone = store.release((l) => l.id === env.containerId && l.ifname === env.ifname).length + store.reclaimOtherBoots();
    if (gone) await store.write();
  });
}

/** Fails unless every prevResult address inside our ranges (or, without prevResult, some address) is leased to this attachment. */
export async function ipamCheck(conf: Conf, version: string, env: IpamEnv, prevResult?: Result): Promise<void> {
  const cfg = parseIpamConfig(conf, version, env.args ?? '');
  const dir = networkDir(cfg);
  const store = existsSync(dir) ? await LeaseStore.open(dir) : undefined;
  const held = store?.heldBy(env.containerId, env.ifname) ?? [];
  const who = `container ${env.containerId} ifname ${env.ifname} in network ${cfg.name}`;
  if (held.length === 0) throw new CniError(Code.Internal, `host-local: failed to find any address leased to ${who}`);
  const subnets = cfg.rangeSets.flatMap((s) => s.map((r) => r.subnet));
  for (const ipc of prevResult?.ips ?? []) {
    const c = parseCidr(ipc.address);
    const ip = c?.ip ?? parseIp(ipc.address);
    if (!ip || !subnets.some((s) => cidrContains(s, ip))) continue;
    const address = formatIp(ip);
    if (!held.includes(address)) {
      const owner = store?.owner(address);
      const now = owner ? `it is leased to container ${owner.id} ifname ${owner.ifname}` : 'it is not leased';
      throw new CniError(Code.Internal, `host-local: prevResult address ${ipc.address} is not leased to ${who}: ${now}`);
    }
  }
}

/** Releases every lease whose attachment is not in cni.dev/valid-attachments (and every lease of an earlier boot). */
export async function ipamGc(conf: Conf): Promise<void> {
  const valid = new Set(validAttachments(conf).map((a) => `${a.containerId}\n${a.ifname}`));
  const dir = networkDir(parseStoreConfig(conf));
  if (!existsSync(dir)) return;
  await withLockedStore(dir, async (store) => {
    const gone = store.reclaimOtherBoots() + store.release((l) => !valid.has(`${l.id}\n${l.ifname}`)).length;
    if (gone) await store.write();
  });
}

/** Code 50 when some range set has no free address left (an ADD would fail), naming those sets. */
export async function ipamStatus(conf: Conf, version: string): Promise<void> {
  const cfg = parseIpamConfig(conf, version);
  const dir = networkDir(cfg);
  const store = existsSync(dir) ? await LeaseStore.open(dir) : undefined;
  const leased = store ? [...store.leases()].map((l) => parseIp(l.address)!).filter(Boolean) : [];
  const full = cfg.rangeSets.map((s, i) => ({ s, i })).filter(({ s }) => freeCount(s, leased) <= 0n);
  if (full.length) {
    throw new CniError(Code.StatusUnavailable, `no IP addresses available in ${full.map(({ s, i }) => `range set ${i}: ${setString(s)}`).join('; ')}`);
  }
}

/** The dry-run view of ADD or DEL: what would be leased or released, computed on the store without writing it. */
export async function ipamPlan(conf: Conf, version: string, env: IpamEnv, command: 'ADD' | 'DEL'): Promise<unknown> {
  const sc = command === 'ADD' ? parseIpamConfig(conf, version, env.args ?? '') : parseStoreConfig(conf);
  const dir = networkDir(sc);
  const store = existsSync(dir) ? await LeaseStore.open(dir) : undefined;
  const reclaim = store ? store.reclaimOtherBoots() : 0;
  const base = { store: join(dir, 'leases.json'), lock: join(dir, LOCK_FILE), reclaimEarlierBootLeases: reclaim };
  if (command === 'DEL') {
    return { ...base, release: store ? [...store.heldBy(env.containerId, env.ifname)] : [] };
  }
  const cfg = sc as ReturnType<typeof parseIpamConfig>;
  const view = store ?? { isTaken: () => false, heldBy: () => [], lastReserved: () => undefined };
  const allocs = allocate(cfg.rangeSets, view, cfg.requested, env.containerId, env.ifname);
  return { ...base, lease: allocs.map((a) => ({ rangeSet: a.setIndex, address: `${a.address}/${a.range.subnet.prefix}`, gateway: formatIp(a.range.gateway) })) };
}
