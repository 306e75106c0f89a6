// The benchmark's network namespaces: all named tscni-b-<run>-..., tracked, and deleted on exit or on a signal.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';

export const RUN_ID = process.env.TSCNI_BENCH_RUN ?? randomBytes(3).toString('hex');
export const PREFIX = `tscni-b-${RUN_ID}-`;
/** Per-run scratch (host-local dataDirs, podman storage, ...), removed with the namespaces. */
export const SCRATCH = `/run/tscni-bench/${RUN_ID}`;

const made = new Set<string>();

export const nsPath = (name: string) => `/run/netns/${name}`;

/** Creates a netns named PREFIX + suffix with lo up, and returns its name. */
export function addNetns(suffix: string): string {
  const name = PREFIX + suffix;
  const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip netns add ${name}: ${r.stderr.trim()}`);
  made.add(name);
  spawnSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export function delNetns(name: string): void {
  spawnSync('ip', ['netns', 'del', name]);
  made.delete(name);
}

/** Names of this run's namespaces that still exist (from `ip netns list`, not from our own bookkeeping). */
export function leftoverNetns(filter = ''): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(PREFIX + filter));
}

/** Deletes every namespace this run made (and any other with its prefix) and its scratch directory. */
export function cleanupAll(): void {
  for (const name of new Set([...made, ...leftoverNetns()])) delNetns(name);
  rmSync(SCRATCH, { recursive: true, force: true });
}

let installed = false;
const hooks: (() => void)[] = [];

/** Registers synchronous work to run at cleanup, before the namespaces go (e.g. removing containers). */
export function onCleanup(fn: () => void): void {
  hooks.push(fn);
}

/** Cleans up on normal exit, on an uncaught error and on SIGINT/SIGTERM/SIGHUP (then exits 130/143/129). */
export function installCleanup(extra: () => void = () => {}): void {
  if (installed) return;
  installed = true;
  const all = () => {
    for (const fn of [...hooks.splice(0), extra]) {
      try {
        fn();
      } catch {
        // keep cleaning
      }
    }
    cleanupAll();
  };
  process.on('exit', all);
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, cleaning up namespaces ${PREFIX}*\n`);
      process.exit(code);
    });
  }
}
