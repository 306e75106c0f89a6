// Shared setup for the bridge kernel tests: a private host netns, IPAM dataDir, configs, and read-back helpers.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { callPlugin, DIST_BIN, type CallResult } from '../../helpers/plugin.ts';
import { ipJson, makeNetns, wireVeth, type TestNetns } from '../../helpers/netns.ts';

export const NFT = '/usr/sbin/nft';
/** tscni's own host-local from dist/bin is the IPAM under test. */
export const CNI_PATH = DIST_BIN;

export interface Fixture {
  host: TestNetns;
  dataDir: string;
  conf(v: string, extra?: Record<string, unknown>): Record<string, unknown>;
  call(command: string, ctr: { path: string } | undefined, ifname: string, conf: unknown, opts?: { id?: string; args?: string; path?: string; bin?: string }): Promise<CallResult>;
}

export function makeFixture(t: ExecutionContext, opts: { subnet?: string; ranges?: unknown } = {}): Fixture {
  const host = makeNetns(t, 'h');
  const dataDir = mkdtempSync(join(tmpdir(), 'tscni-br-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const ipam = opts.ranges ? { type: 'host-local', ranges: opts.ranges, dataDir } : { type: 'host-local', subnet: opts.subnet ?? '10.77.0.0/24', dataDir };
  return {
    host,
    dataDir,
    conf: (v, extra = {}) => ({ cniVersion: v, name: 'tnet', type: 'bridge', bridge: 'tbr0', isGateway: true, ipMasq: true, ipam, ...extra }),
    call: (command, ctr, ifname, conf, o = {}) =>
      callPlugin(o.bin ?? 'bridge', { command, containerId: o.id ?? 'c1', netns: ctr?.path ?? '', ifname, path: o.path ?? CNI_PATH, args: o.args }, conf, { hostNetns: host.name }),
  };
}

/**
 * The leased addresses of `network` under dataDir, read from the files: tscni's host-local keeps them in
 * leases.json (column `a`), the reference one as one file per address.
 */
export function leases(dataDir: string, network = 'tnet'): string[] {
  const dir = join(dataDir, network);
  if (!existsSync(dir)) return [];
  const store = join(dir, 'leases.json');
  if (existsSync(store)) return (JSON.parse(readFileSync(store, 'utf8')) as { a: string[] }).a;
  return readdirSync(dir).filter((f) => /^[0-9a-f.:]+$/i.test(f) && (f.includes('.') || f.includes(':')));
}

/** The tagged elements in the host netns's tscni tables, read with nft itself. */
export function nftElements(host: TestNetns): { family: string; set: string; val: unknown; comment?: string }[] {
  const r = host.try([NFT, '-j', 'list', 'ruleset']);
  const out: { family: string; set: string; val: unknown; comment?: string }[] = [];
  for (const o of JSON.parse(r.stdout || '{"nftables":[]}').nftables) {
    if (!o.set || o.set.table !== 'tscni_bridge') continue;
    for (const e of o.set.elem ?? []) out.push({ family: o.set.family, set: o.set.name, val: e.elem?.val ?? e, comment: e.elem?.comment });
  }
  return out;
}

export const vethsIn = (ns: TestNetns): string[] => ipJson<any[]>(ns, ['link', 'show', 'type', 'veth']).map((l) => l.ifname);
export const addrsOf = (ns: TestNetns, dev: string): string[] =>
  ipJson<any[]>(ns, ['addr', 'show', 'dev', dev])[0].addr_info.filter((a: any) => a.scope === 'global').map((a: any) => `${a.local}/${a.prefixlen}`);

/** Polls `fn` until it returns true (bounded): netns teardown in the kernel is asynchronous. */
export async function eventually(fn: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return fn();
}

/**
 * An "outside" host routed through the private host netns: veth xo0 (198.51.100.1) in host, xo1 (198.51.100.2) in
 * out; out has no route back to the containers, so a reply only comes back when the source was masqueraded.
 */
export function makeOutside(t: ExecutionContext, host: TestNetns): TestNetns {
  const out = makeNetns(t, 'out');
  wireVeth(host, 'xo0', '198.51.100.1/24', out, 'xo1', '198.51.100.2/24');
  return out;
}

/** Starts a one-shot TCP server in `ns` that answers each client with the peer address it saw; stops itself after 10 s. */
export function peerEchoServer(ns: TestNetns, port: number, v6 = false): () => void {
  const listen = `${v6 ? 'TCP6' : 'TCP4'}-LISTEN:${port},reuseaddr,fork`;
  const child = spawn('ip', ['netns', 'exec', ns.name, 'timeout', '10', 'socat', listen, 'SYSTEM:echo $SOCAT_PEERADDR'], { stdio: 'ignore' });
  return () => child.kill();
}

/** Connects from `ns` to ip:port and returns what the server said (retries while the server starts; bounded). */
export async function askPeer(ns: TestNetns, ip: string, port: number, tries = 30): Promise<string> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    const r = ns.try(['socat', '-T2', '-', `TCP:${ip}:${port},connect-timeout=1`], '');
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
    last = r.stderr;
    await new Promise((res) => setTimeout(res, 100));
  }
  return `no answer: ${last}`;
}
