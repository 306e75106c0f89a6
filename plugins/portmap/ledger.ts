// The port ledger: who holds a published port (read back from the table's owner comments) and host listeners (bind probe).

import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { CniError } from '../../lib/cni/errors.ts';
import { lockFile } from '../../lib/kernel/file-lock.ts';
import { listNft } from '../../lib/nft/apply.ts';
import { describe } from './config.ts';
import { portmapTagContainer as containerOf } from '../../lib/cni/owner.ts';
import { fromHostipsElem, fromTagElem, TABLE, type Entry, type Listed } from './rules.ts';

/** Where concurrent ADDs serialise their bind probes. */
const PROBE_LOCK_DIR = '/run/tscni';

/** Plugin-specific error code (CNI codes 100+): the port is already allocated, by a container or a host process. */
export const PORT_ALLOCATED = 100;

/** The whole table as nft JSON objects, or undefined when it does not exist. */
export function readTable(): Promise<Record<string, unknown>[] | undefined> {
  return listNft(['table', 'inet', TABLE]);
}

/** Every element of our maps and sets, with its key, value and owner comment. */
export function listedElements(objs: readonly Record<string, unknown>[]): Listed[] {
  const out: Listed[] = [];
  for (const o of objs) {
    const s = (o.map ?? o.set) as { name: string; elem?: unknown[] } | undefined;
    if (!s?.elem) continue;
    for (const raw of s.elem) {
      const [k, value] = o.map ? (raw as [unknown, unknown]) : [raw, undefined];
      const wrapped = k as { elem?: { val: unknown; comment?: string } };
      if (wrapped && typeof wrapped === 'object' && 'elem' in wrapped && wrapped.elem) {
        out.push({ name: s.name, key: wrapped.elem.val, value, comment: wrapped.elem.comment });
      } else {
        out.push({ name: s.name, key: k, value });
      }
    }
  }
  return out;
}

/** Specific host addresses ever published (the probes of a wildcard mapping check each of them). */
export async function knownHostIPs(): Promise<string[]> {
  const objs = await listNft(['set', 'inet', TABLE, 'hostips']);
  const set = objs?.find((o) => o.set)?.set as { elem?: string[] } | undefined;
  return (set?.elem ?? []).filter((e) => typeof e === 'string').map(fromHostipsElem);
}

/** Tags of the conditions sets of every network (each has its own chain and maps). */
export async function knownTags(): Promise<string[]> {
  const objs = await listNft(['set', 'inet', TABLE, 'condsets']);
  const set = objs?.find((o) => o.set)?.set as { elem?: unknown[] } | undefined;
  return (set?.elem ?? []).filter((e): e is number => typeof e === 'number').map(fromTagElem);
}

/** Splits a listed DNAT map key into (hostIP?, protocol, port). */
export function keyParts(key: unknown): { hostIP?: string; protocol: string; hostPort: number } | undefined {
  const c = (key as { concat?: unknown[] })?.concat;
  if (!Array.isArray(c)) return undefined;
  return c.length === 3 ? { hostIP: String(c[0]), protocol: String(c[1]), hostPort: Number(c[2]) } : { protocol: String(c[0]), hostPort: Number(c[1]) };
}

/** Finds who holds a port that one of `entries` wants, from a listing made after a refused transaction. */
export function findConflict(entries: readonly Entry[], listed: readonly Listed[]): CniError | undefined {
  for (const e of entries) {
    for (const it of listed) {
      if (!new RegExp(`^addr${e.family}(_any)?(_c[0-9a-f]{8})?$`).test(it.name)) continue;
      const k = keyParts(it.key);
      if (!k || k.protocol !== e.protocol || k.hostPort !== e.hostPort) continue;
      if (k.hostIP && e.hostIP && k.hostIP !== e.hostIP) continue;
      return portAllocated(e, `held by container ${containerOf(it.comment ?? '?')}`);
    }
  }
  return undefined;
}

export function portAllocated(e: Pick<Entry, 'protocol' | 'hostIP' | 'hostPort' | 'family'>, holder: string): CniError {
  return new CniError(PORT_ALLOCATED, `port is already allocated: ${describe(e, e.family)} ${holder}`);
}

function bindProbe(e: Entry): Promise<string | undefined> {
  const host = e.hostIP ?? (e.family === 4 ? '0.0.0.0' : '::');
  return new Promise((resolve) => {
    const verdict = (err?: NodeJS.ErrnoException) => resolve(err?.code === 'EADDRINUSE' ? err.code : undefined);
    if (e.protocol === 'tcp') {
      const srv = createServer();
      srv.once('error', (err) => verdict(err));
      srv.listen({ host, port: e.hostPort, exclusive: true, ipv6Only: e.family === 6 }, () => srv.close(() => verdict()));
    } else {
      const sock = createSocket({ type: e.family === 4 ? 'udp4' : 'udp6', ipv6Only: e.family === 6 });
      sock.once('error', (err) => {
        sock.close();
        verdict(err);
      });
      sock.bind({ address: host, port: e.hostPort, exclusive: true }, () => sock.close(() => verdict()));
    }
  });
}

/**
 * A concurrent ADD of an overlapping port binds it for a moment too: a bind that fails is tried again a few times,
 * 10 ms apart, before the port counts as held (a real listener holds it throughout).
 */
async function bindProbeSettled(e: Entry): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    const r = await bindProbe(e);
    if (r === undefined || attempt === 4) return r;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Refuses a port a host process already listens on: bind it for a moment (the kernel's own overlap rules, wildcard
 * against specific, v4-mapped included). An address that is not local (EADDRNOTAVAIL) cannot be held by anyone.
 * SCTP is not probed (Node has no SCTP sockets).
 */
export async function checkHostListeners(entries: readonly Entry[]): Promise<void> {
  const probed = entries.filter((e) => e.protocol !== 'sctp');
  if (!probed.length) return;
  // Concurrent ADDs probe one at a time: otherwise their probes hold the port for each other, and a loaded machine
  // outlasts any retry budget (8 racers on 2 cores did). The kernel drops the flock if a holder dies.
  let release = () => {};
  try {
    mkdirSync(PROBE_LOCK_DIR, { recursive: true, mode: 0o700 });
    release = lockFile(`${PROBE_LOCK_DIR}/portmap-probe.lock`);
  } catch {
    // no lock to be had (a read-only /run): the retries below still cover the usual case
  }
  let results: (string | undefined)[];
  try {
    results = await Promise.all(probed.map(bindProbeSettled));
  } finally {
    release();
  }
  const i = results.findIndex((r) => r !== undefined);
  if (i >= 0) throw portAllocated(probed[i], `held by a host process (bind: ${results[i]})`);
}
