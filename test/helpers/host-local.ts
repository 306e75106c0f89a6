// Shared setup of the host-local executable tests: a temp dataDir, a config builder, calls, and the store read back.

import type { ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callPlugin, type CallResult } from './plugin.ts';

export const NETNS = '/proc/self/ns/net';
export const BOOT = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

export function tempDir(t: ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tscni-hl-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export const net = (dataDir: string, ipam: object, extra: object = {}, version = '1.1.0') => ({
  cniVersion: version,
  name: 'hlnet',
  type: 'host-local',
  ipam: { type: 'host-local', dataDir, ...ipam },
  ...extra,
});

export function call(command: string, conf: object, id = 'c1', ifname = 'eth0', args?: string): Promise<CallResult> {
  return callPlugin('host-local', { command, containerId: id, ifname, netns: NETNS, args }, conf);
}

export const leases = (dataDir: string, name = 'hlnet') => JSON.parse(readFileSync(join(dataDir, name, 'leases.json'), 'utf8'));
/** The store's columns as {address: [id, ifname, time, boot index]}. */
export const rows = (s: any): Record<string, [string, string, number, number]> => Object.fromEntries(s.a.map((a: string, k: number) => [a, [s.c[k], s.i[k], s.t[k], s.o[k]]]));
export const leased = (dataDir: string) => Object.fromEntries(Object.entries(rows(leases(dataDir))).map(([ip, row]) => [ip, `${row[0]}/${row[1]}`]));
