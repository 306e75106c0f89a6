// Test namespaces: every kernel test makes its own private "host" netns and container netns, and removes them.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';

export interface TestNetns {
  name: string;
  path: string;
  /** Runs argv inside this netns and returns stdout (throws on a non-zero exit). */
  run(argv: string[], input?: string): string;
  /** Like run, but returns status/stdout/stderr instead of throwing. */
  try(argv: string[], input?: string): { status: number; stdout: string; stderr: string };
  remove(): void;
}

/** Fails the test unless it runs as root: the kernel tiers are never skipped. */
export function requireRoot(t: ExecutionContext): boolean {
  if (process.getuid?.() === 0) return true;
  t.fail('kernel tier needs root (CI runs as root; run the README test command with sudo)');
  return false;
}

export function makeNetns(t: ExecutionContext, role: string): TestNetns {
  const name = `tscni-t-${role}-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  const ns: TestNetns = {
    name,
    path: `/var/run/netns/${name}`,
    run(argv, input) {
      return execFileSync('ip', ['netns', 'exec', name, ...argv], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    },
    try(argv, input) {
      const r = spawnSync('ip', ['netns', 'exec', name, ...argv], { input, encoding: 'utf8' });
      return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    remove() {
      spawnSync('ip', ['netns', 'del', name]);
    },
  };
  ns.run(['ip', 'link', 'set', 'lo', 'up']);
  t.teardown(() => ns.remove());
  return ns;
}

/** JSON from `ip -j ...` run inside a netns. */
export function ipJson<T = any>(ns: TestNetns, args: string[]): T {
  return JSON.parse(ns.run(['ip', '-j', ...args]) || '[]');
}

/** Wires `other` to `host` with a veth pair: `hostIf` with `hostCidr` in host, `peerIf` with `peerCidr` in other, both up. */
export function wireVeth(host: TestNetns, hostIf: string, hostCidr: string, other: TestNetns, peerIf: string, peerCidr: string): void {
  host.run(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf, 'netns', other.name]);
  host.run(['ip', 'addr', 'add', hostCidr, 'dev', hostIf]);
  host.run(['ip', 'link', 'set', hostIf, 'up']);
  other.run(['ip', 'addr', 'add', peerCidr, 'dev', peerIf]);
  other.run(['ip', 'link', 'set', peerIf, 'up']);
}
