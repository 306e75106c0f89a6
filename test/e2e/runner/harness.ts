// Shared by the runner/cnitool e2e tests: run dist/bin/tscni inside a private host netns with its own
// NETCONFPATH, state, cache and IPAM dirs, and clean every container, netns and mount up afterwards.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { ipJson, makeNetns, type TestNetns } from '../../helpers/netns.ts';
import { DIST_BIN, REF_BIN } from '../../helpers/plugin.ts';

export const TSCNI = join(DIST_BIN, 'tscni');

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunnerEnv {
  host: TestNetns;
  dir: string;
  netconf: string;
  state: string;
  cache: string;
  ipam: string;
  env: Record<string, string>;
  tscni(args: string[], extraEnv?: Record<string, string>): Promise<Outcome>;
}

/** Our plugin when dist/bin has it, else the reference one (the others' plugins land while this is written). */
export const pluginDir = (type: string) => (existsSync(join(DIST_BIN, type)) ? DIST_BIN : REF_BIN);
export const CNI_PATH = `${DIST_BIN}:${REF_BIN}`;
/** 1.1.0 needs every plugin in the chain to speak it; the reference 1.1.1 binaries stop at 1.0.0. */
export const chainVersion = (types: string[]) => (types.every((t) => pluginDir(t) === DIST_BIN) ? '1.1.0' : '1.0.0');

export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir));
}

export function makeRunnerEnv(t: ExecutionContext, role: string, cniPath = CNI_PATH): RunnerEnv {
  const host = makeNetns(t, role);
  const dir = mkdtempSync(join(tmpdir(), `tscni-e2e-${role}-`));
  const r: RunnerEnv = {
    host,
    dir,
    netconf: join(dir, 'net.d'),
    state: join(dir, 'state'),
    cache: join(dir, 'cache'),
    ipam: join(dir, 'ipam'),
    env: {},
    tscni: (args, extraEnv = {}) =>
      new Promise((resolve, reject) => {
        const child = spawn('nsenter', [`--net=${host.path}`, TSCNI, ...args], { env: { ...r.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      }),
  };
  mkdirSync(r.netconf, { recursive: true });
  r.env = {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    NETCONFPATH: r.netconf,
    TSCNI_STATE_DIR: r.state,
    TSCNI_CACHE_DIR: r.cache,
    CNI_PATH: cniPath,
  };
  // Registered before makeNetns's own teardown runs (ava runs teardowns last-in first-out).
  t.teardown(() => {
    const ids = (() => {
      try {
        return readdirSync(join(r.state, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
      } catch {
        return [];
      }
    })();
    for (const id of ids) {
      spawnSync('runc', ['--root', join(r.state, 'runc'), 'delete', '--force', id]);
      spawnSync('ip', ['netns', 'del', id]);
    }
    for (const m of mountsUnder(dir).reverse()) spawnSync('umount', ['-l', m]);
    rmSync(dir, { recursive: true, force: true });
  });
  return r;
}

export function writeConf(r: RunnerEnv, file: string, conf: unknown): string {
  const p = join(r.netconf, file);
  writeFileSync(p, typeof conf === 'string' ? conf : JSON.stringify(conf, null, 2));
  return p;
}

/** A bridge + host-local + portmap + loopback list with its own bridge and subnet. */
export function testNetwork(r: RunnerEnv, name: string, bridge: string, subnet: string): Record<string, unknown> {
  const version = chainVersion(['bridge', 'host-local', 'portmap', 'loopback']);
  return {
    cniVersion: version,
    name,
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: true, hairpinMode: true, capabilities: { ips: true, mac: true }, ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: r.ipam } },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'loopback' },
    ],
  };
}

/** Whether host-local holds a lease on `ip`: the reference keeps one file per address, tscni's a leases.json. */
export function leased(ipamDir: string, network: string, ip: string): boolean {
  const dir = join(ipamDir, network);
  const db = join(dir, 'leases.json');
  if (existsSync(db)) return (JSON.parse(readFileSync(db, 'utf8')).a as string[]).includes(ip);
  return existsSync(join(dir, ip));
}

/** Runs tscni and asserts it exited 0 (the message names the command and its stderr). */
export async function ok(t: ExecutionContext, r: RunnerEnv, args: string[]): Promise<Outcome> {
  const o = await r.tscni(args);
  t.is(o.code, 0, `tscni ${args.join(' ')}: ${o.stderr}`);
  return o;
}

/** curl from the test's host netns until it answers (40 tries, 100 ms apart); its body, or curl's last error. */
export async function curlUntil(r: RunnerEnv, url: string): Promise<string> {
  for (let i = 0; i < 40; i++) {
    const c = r.host.try(['curl', '-fsS', '-m', '2', url]);
    if (c.status === 0) return c.stdout;
    await new Promise((res) => setTimeout(res, 100));
  }
  return r.host.try(['curl', '-fsS', '-m', '2', url]).stderr;
}

/** What a runner env still holds: container state dirs, cached results, mounts under it, veths in its host netns. */
export function stateLeft(r: RunnerEnv) {
  const dir = join(r.state, 'containers');
  return {
    stateDirs: existsSync(dir) ? readdirSync(dir).filter((n) => /^[0-9a-f]{64}$/.test(n)).length : 0,
    cache: existsSync(join(r.cache, 'results')) ? readdirSync(join(r.cache, 'results')).length : 0,
    mounts: mountsUnder(r.dir).length,
    veths: ipJson(r.host, ['link', 'show', 'type', 'veth']).length,
  };
}
export const NOTHING = { stateDirs: 0, cache: 0, mounts: 0, veths: 0 };

/** Retries a command inside a container (exec) until it succeeds; bounded (4 s). */
export async function execUntil(r: RunnerEnv, name: string, argv: string[]): Promise<string> {
  let last = '';
  for (let i = 0; i < 40; i++) {
    const o = await r.tscni(['exec', name, ...argv]);
    if (o.code === 0) return o.stdout;
    last = o.stderr;
    await new Promise((res) => setTimeout(res, 100));
  }
  return `failed: ${last}`;
}
