// The lease store of one network: a compact lowdb JSON file (`leases.json`) written by temp file + rename.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import { CniError, Code } from '../cni/errors.ts';
import type { LeaseView } from './allocator.ts';

export const STORE_FILE = 'leases.json';
export const LOCK_FILE = 'lock';
export const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';

/**
 * The file, column-wise so 10k leases parse and print fast (arrays of strings and numbers, no per-lease objects):
 * v = format version, b = boot ids seen; lease k is (a[k] address, c[k] container id, i[k] ifname, t[k] unix
 * seconds, o[k] index into b); r = last reserved address per range set index.
 */
export interface StoreData {
  v: 1;
  b: string[];
  a: string[];
  c: string[];
  i: string[];
  t: number[];
  o: number[];
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

const empty = (): StoreData => ({ v: 1, b: [], a: [], c: [], i: [], t: [], o: [], r: {} });

function checkShape(d: unknown, path: string): StoreData {
  const o = d as StoreData;
  const bad = () => new CniError(Code.Io, `lease store ${JSON.stringify(path)} is not a tscni host-local store (format v1)`);
  if (typeof o !== 'object' || o === null || o.v !== 1 || typeof o.r !== 'object' || o.r === null) throw bad();
  for (const k of ['b', 'a', 'c', 'i', 't', 'o'] as const) if (!Array.isArray(o[k])) throw bad();
  const n = o.a.length;
  if (o.c.length !== n || o.i.length !== n || o.t.length !== n || o.o.length !== n) throw bad();
  return o;
}

export class LeaseStore implements LeaseView {
  readonly path: string;
  readonly #db: Low<StoreData>;
  #boot: number;
  /** Row of each address: O(1) lookups whatever the number of leases. */
  readonly #index = new Map<string, number>();

  private constructor(path: string, db: Low<StoreData>, bootId: string) {
    this.path = path;
    this.#db = db;
    const d = db.data;
    let idx = d.b.indexOf(bootId);
    if (idx < 0) idx = d.b.push(bootId) - 1;
    this.#boot = idx;
    for (let k = 0; k < d.a.length; k++) this.#index.set(d.a[k], k);
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

  #row(k: number): Lease {
    const d = this.#db.data;
    return { address: d.a[k], id: d.c[k], ifname: d.i[k], time: d.t[k], bootId: d.b[d.o[k]] };
  }

  /** Every lease of the current boot. */
  *leases(): Generator<Lease> {
    const d = this.#db.data;
    for (let k = 0; k < d.a.length; k++) if (d.o[k] === this.#boot) yield this.#row(k);
  }

  isTaken(ip: string): boolean {
    const k = this.#index.get(ip);
    return k !== undefined && this.#db.data.o[k] === this.#boot;
  }

  owner(ip: string): Lease | undefined {
    return this.isTaken(ip) ? this.#row(this.#index.get(ip)!) : undefined;
  }

  heldBy(id: string, ifname: string): readonly string[] {
    const d = this.#db.data;
    const out: string[] = [];
    for (let k = 0; k < d.a.length; k++) if (d.c[k] === id && d.i[k] === ifname && d.o[k] === this.#boot) out.push(d.a[k]);
    return out;
  }

  lastReserved(index: number): string | undefined {
    return this.#db.data.r[String(index)];
  }

  reserve(address: string, id: string, ifname: string, setIndex: number, now = Math.floor(Date.now() / 1000)): void {
    const d = this.#db.data;
    let k = this.#index.get(address);
    if (k === undefined) {
      k = d.a.push(address) - 1;
      this.#index.set(address, k);
    }
    d.c[k] = id;
    d.i[k] = ifname;
    d.t[k] = now;
    d.o[k] = this.#boot;
    d.r[String(setIndex)] = address;
  }

  #removeRow(k: number): void {
    const d = this.#db.data;
    const last = d.a.length - 1;
    this.#index.delete(d.a[k]);
    if (k !== last) {
      for (const col of [d.a, d.c, d.i, d.t, d.o] as unknown[][]) col[k] = col[last];
      this.#index.set(d.a[k], k);
    }
    for (const col of [d.a, d.c, d.i, d.t, d.o]) col.pop();
  }

  /** Drops every lease `drop` selects; returns the addresses dropped. */
  release(drop: (lease: Lease) => boolean): string[] {
    const gone: string[] = [];
    for (let k = this.#db.data.a.length - 1; k >= 0; k--) {
      const lease = this.#row(k);
      if (drop(lease)) {
        this.#removeRow(k);
        gone.push(lease.address);
      }
    }
    return gone;
  }

  /** Reclaims the leases made in an earlier boot (their containers died with it); returns how many. */
  reclaimOtherBoots(): number {
    const d = this.#db.data;
    let n = 0;
    for (let k = d.a.length - 1; k >= 0; k--) {
      if (d.o[k] !== this.#boot) {
        this.#removeRow(k);
        n++;
      }
    }
    return n;
  }

  /** Writes the store atomically (steno: temp file + rename), files 0600, keeping only boot ids still referenced. */
  async write(): Promise<void> {
    const d = this.#db.data;
    if (d.b.length > 1) {
      const used = new Set<number>([this.#boot, ...d.o]);
      const remap = new Map<number, number>();
      const b: string[] = [];
      for (const i of [...used].sort((x, y) => x - y)) remap.set(i, b.push(d.b[i]) - 1);
      for (let k = 0; k < d.o.length; k++) d.o[k] = remap.get(d.o[k])!;
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
