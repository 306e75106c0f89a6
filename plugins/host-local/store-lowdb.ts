// The lease store of one network: a compact lowdb JSON file (`leases.json`) written by temp file + rename.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import { CniError, Code } from '../../lib/cni/errors.ts';
import type { LeaseView } from './allocator.ts';

export const STORE_FILE = 'leases.json';
export const LOCK_FILE = 'lock';
export const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';

/** One lease, short keys so 10k of them parse fast: [containerId, ifname, unix seconds, index into `b`]. */
export type LeaseRow = [id: string, ifname: string, time: number, boot: number];

/** The file: v = format version, b = boot ids seen, l = leases by address, r = last reserved address per range set. */
export interface StoreData {
  v: 1;
  b: string[];
  l: Record<string, LeaseRow>;
  r: Record<string, string>;
}

export interface Lease {
  address: string;
  id: string;
  ifname: string;
  time: number;
  bootId: string;
}

let cachedBootId: string | undefined;

/** The kernel's id of the current boot: leases stamped with any other id were made before a reboot and are dead. */
export function currentBootId(): string {
  if (cachedBootId) return cachedBootId;
  try {
    cachedBootId = readFileSync(BOOT_ID_PATH, 'utf8').trim();
  } catch (err) {
    throw new CniError(Code.Io, `cannot read boot id from ${BOOT_ID_PATH}: ${(err as Error).message}`);
  }
  return cachedBootId;
}

const empty = (): StoreData => ({ v: 1, b: [], l: {}, r: {} });

function checkShape(d: unknown, path: string): StoreData {
  const o = d as StoreData;
  if (typeof o !== 'object' || o === null || o.v !== 1 || !Array.isArray(o.b) || typeof o.l !== 'object' || o.l === null || typeof o.r !== 'object' || o.r === null) {
    throw new CniError(Code.Io, `lease store ${JSON.stringify(path)} is not a tscni host-local store (format v1)`);
  }
  return o;
}

export class LeaseStore implements LeaseView {
  readonly path: string;
  readonly #db: Low<StoreData>;
  #boot: number;
  #owners: Map<string, string[]> | undefined;

  private constructor(path: string, db: Low<StoreData>, bootId: string) {
    this.path = path;
    this.#db = db;
    let idx = db.data.b.indexOf(bootId);
    if (idx < 0) idx = db.data.b.push(bootId) - 1;
    this.#boot = idx;
  }

  /** Reads `<dir>/leases.json` (an absent file is an empty store). */
  static async open(dir: string, bootId = currentBootId()): Promise<LeaseStore> {
    const path = join(dir, STORE_FILE);
    const db = new Low<StoreData>(new DataFile<StoreData>(path, { parse: JSON.parse, stringify: (d) => JSON.stringify(d) }), empty());
    try {
      await db.read();
    } catch (err) {
      throw new CniError(Code.Io, `cannot read lease store ${JSON.stringify(path)}: ${(err as Error).message}`);
    }
    db.data = checkShape(db.data, path);
    return new LeaseStore(path, db, bootId);
  }

  get data(): StoreData {
    return this.#db.data;
  }

  #live(row: LeaseRow): boolean {
    return row[3] === this.#boot;
  }

  /** Every lease of the current boot. */
  *leases(): Generator<Lease> {
    const { l, b } = this.#db.data;
    for (const address in l) {
      const row = l[address];
      if (this.#live(row)) yield { address, id: row[0], ifname: row[1], time: row[2], bootId: b[row[3]] };
    }
  }

  isTaken(ip: string): boolean {
    const row = this.#db.data.l[ip];
    return row !== undefined && Object.hasOwn(this.#db.data.l, ip) && this.#live(row);
  }

  owner(ip: string): Lease | undefined {
    if (!this.isTaken(ip)) return undefined;
    const row = this.#db.data.l[ip];
    return { address: ip, id: row[0], ifname: row[1], time: row[2], bootId: this.#db.data.b[row[3]] };
  }

  heldBy(id: string, ifname: string): readonly string[] {
    if (!this.#owners) {
      this.#owners = new Map();
      for (const lease of this.leases()) {
        const k = `${lease.id}\n${lease.ifname}`;
        const list = this.#owners.get(k);
        if (list) list.push(lease.address);
        else this.#owners.set(k, [lease.address]);
      }
    }
    return this.#owners.get(`${id}\n${ifname}`) ?? [];
  }

  lastReserved(index: number): string | undefined {
    return this.#db.data.r[String(index)];
  }

  reserve(address: string, id: string, ifname: string, setIndex: number, now = Math.floor(Date.now() / 1000)): void {
    this.#db.data.l[address] = [id, ifname, now, this.#boot];
    this.#db.data.r[String(setIndex)] = address;
    this.#owners = undefined;
  }

  /** Drops every lease `drop` selects; returns the addresses dropped. */
  release(drop: (lease: Lease) => boolean): string[] {
    const { l, b } = this.#db.data;
    const gone: string[] = [];
    for (const address in l) {
      const row = l[address];
      if (drop({ address, id: row[0], ifname: row[1], time: row[2], bootId: b[row[3]] })) {
        delete l[address];
        gone.push(address);
      }
    }
    if (gone.length) this.#owners = undefined;
    return gone;
  }

  /** Reclaims the leases made in an earlier boot (their containers died with it); returns how many. */
  reclaimOtherBoots(): number {
    const boot = this.#db.data.b[this.#boot];
    return this.release((lease) => lease.bootId !== boot).length;
  }

  /** Writes the store atomically (steno: temp file + rename), files 0600, keeping only boot ids still referenced. */
  async write(): Promise<void> {
    const d = this.#db.data;
    const used = new Set<number>();
    used.add(this.#boot);
    for (const a in d.l) used.add(d.l[a][3]);
    if (used.size < d.b.length) {
      const remap = new Map<number, number>();
      const b: string[] = [];
      for (const i of [...used].sort((x, y) => x - y)) remap.set(i, b.push(d.b[i]) - 1);
      for (const a in d.l) d.l[a][3] = remap.get(d.l[a][3])!;
      d.b = b;
      this.#boot = remap.get(this.#boot)!;
    }
    const mask = process.umask(0o077);
    try {
      await this.#db.write();
    } catch (err) {
      throw new CniError(Code.Io, `cannot write lease store ${JSON.stringify(this.path)}: ${(err as Error).message}`);
    } finally {
      process.umask(mask);
    }
  }
}
