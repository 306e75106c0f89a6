// Starting a network's resolver (dns/resolver.ts) when a container on a DNS-enabled network starts or is connected
// to it: one per network, found by its pid file (<state>/dns/<net>.pid, checked against /proc/<pid>/cmdline so a
// pid reused after a reboot does not count), spawned detached through lib/exec/process.ts and waited for until
// bound; stopped by the release that leaves its network without users (the resolver also exits by itself).

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start } from '../../exec/process.ts';
import type { Ctx } from '../context.ts';
import { withLock } from '../lock.ts';
import { alive } from '../container/pid.ts';
import { createdOnly, type ContainerState } from '../container/store.ts';
import { selfExecutable } from '../paths.ts';
import { trace } from '../trace.ts';

export function resolverFiles(stateRoot: string, net: string): { dir: string; pid: string; lock: string; log: string } {
  const dir = join(stateRoot, 'dns');
  return { dir, pid: join(dir, `${net}.pid`), lock: join(dir, `${net}.lock`), log: join(dir, `${net}.log`) };
}

export function writePidFile(path: string, pid: number): void {
  const tmp = `${path}.${pid}.tmp`;
  writeFileSync(tmp, `${pid}\n`);
  renameSync(tmp, path);
}

/** The running resolver of `net`, if any. */
export function resolverPid(stateRoot: string, net: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(resolverFiles(stateRoot, net).pid, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!alive(pid)) return undefined;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const at = argv.indexOf('__resolver');
    return at >= 0 && argv[at + 1] === net ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Upstream resolvers: TSCNI_DNS_UPSTREAM (comma-separated) or the host's resolv.conf; never a gateway itself. */
export function upstreamServers(env: NodeJS.ProcessEnv, resolvConfText: string, gateways: readonly string[]): string[] {
  const given = env.TSCNI_DNS_UPSTREAM?.split(',').map((s) => s.trim()).filter(Boolean);
  const fromFile = [...resolvConfText.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]);
  return (given ?? fromFile).filter((s) => !gateways.includes(s));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Containers that keep `net`'s resolver: on it (first network or connected) and started, starting or running
 * (a start registers itself before it asks for the resolver); `excludeId` is one being released.
 */
export function resolverUsers(all: readonly ContainerState[], net: string, excludeId?: string): number {
  return all.filter((c) => c.id !== excludeId && c.status !== 'exited' && !createdOnly(c) && (c.network === net || (c.extraNetworks ?? []).some((e) => e.network === net))).length;
}

/**
 * Stops `net`'s resolver when no container but `excludeId` uses the network (under the lock ensureResolver takes,
 * so a start in between keeps it): TERM, then KILL after 1 s; its pid file and log go. Forgives one already gone.
 */
export async function retireResolver(ctx: Ctx, net: string, excludeId?: string): Promise<void> {
  const files = resolverFiles(ctx.paths.stateRoot, net);
  if (!existsSync(files.pid)) return;
  await withLock(files.lock, async () => {
    if (resolverUsers(ctx.containers.all(), net, excludeId) > 0) return;
    const pid = resolverPid(ctx.paths.stateRoot, net);
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(pid!, sig);
      } catch {
        // gone in between
      }
    };
    if (pid) {
      signal('SIGTERM');
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(20);
      if (alive(pid)) signal('SIGKILL');
      trace(`resolver of ${net} stopped`);
    }
    rmSync(files.pid, { force: true });
    rmSync(files.log, { force: true });
  });
}

/**
 * Makes sure `net`'s resolver runs on `gateways` (IPv4, then IPv6 on a dual-stack network) serving `cidrs`; false
 * when it could not be started (its log says why).
 */
export async function ensureResolver(ctx: Ctx, net: string, gateways: readonly string[], cidrs: readonly string[]): Promise<boolean> {
  const files = resolverFiles(ctx.paths.stateRoot, net);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  return withLock(files.lock, async () => {
    if (resolverPid(ctx.paths.stateRoot, net)) return true;
    rmSync(files.pid, { force: true });
    let resolvText = '';
    try {
      resolvText = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      resolvText = '';
    }
    const fd = openSync(files.log, 'w');
    let pid = 0;
    try {
      const child = await start(process.execPath, [selfExecutable(), '__resolver', net, gateways.join(','), cidrs.join(','), ...upstreamServers(process.env, resolvText, gateways)], { detached: true, stdio: ['ignore', fd, fd] });
      child.unref();
      pid = child.pid ?? 0;
    } finally {
      closeSync(fd);
    }
    for (let i = 0; i < 300; i++) {
      if (resolverPid(ctx.paths.stateRoot, net) === pid) {
        trace(`resolver of ${net} started`);
        return true;
      }
      if (!alive(pid)) break;
      await sleep(20);
    }
    return false;
  });
}
