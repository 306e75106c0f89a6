// Runs child processes inside a chosen network namespace (setns around spawn) and times them from exec to exit.

import { spawn, type ChildProcess } from 'node:child_process';
import { inNetns } from '../../lib/kernel/netns.ts';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, milliseconds. */
  ms: number;
}

export interface RunOptions {
  /** Netns path the child starts in (it inherits the spawning thread's netns); the caller's own when absent. */
  netns?: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

const BASE_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
const live = new Set<ChildProcess>();

/** Interrupts every child still running (SIGINT, as a terminal's Ctrl-C would), for the cleanup on a signal. */
export function interruptChildren(): void {
  for (const c of live) c.kill('SIGINT');
}

/** Spawns argv (no shell) and resolves with its exit code, output and wall time; never rejects on a non-zero exit. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const start = () => spawn(argv[0], argv.slice(1), { env: opts.env ?? BASE_ENV, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
    const t0 = process.hrtime.bigint();
    const child = opts.netns ? inNetns(opts.netns, start) : start();
    live.add(child);
    let stdout = '';
    let stderr = '';
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`exec ${argv[0]}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      live.delete(child);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr, ms });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Like run, but throws with the command's stderr when it exits non-zero. */
export async function must(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
